import Logbook

/// How `logbook serve` runs. Every field has a default; the CLI fills them from flags or the environment.
public struct ServerConfiguration: Sendable {
    public var host = "127.0.0.1"
    public var port = 8080
    /// A running job silent for longer than this is interrupted by the reaper (microseconds).
    public var leaseMicroseconds: Int64 = 90_000_000
    /// When set, a running job whose attempt made no progress for longer than this (microseconds)
    /// is interrupted too, with reason `stalled`, even while its heartbeat goes on.
    public var stallMicroseconds: Int64?
    /// How often the reaper looks (default: a third of the lease, at least one second).
    public var reapIntervalMicroseconds: Int64?
    /// Request bodies larger than this are refused with 413.
    public var maxBodyBytes = 1 << 20
    /// When set, every endpoint but `/healthz` needs `Authorization: Bearer <token>`.
    public var bearerToken: String?
    /// Most SSE frames waiting for one client; a client further behind is disconnected (it resumes
    /// with `Last-Event-ID`), so stalled clients never grow the service's memory.
    public var maxFollowerLag = 512
    /// On graceful shutdown, append `interrupted` (reason `shutdown`) for this node's running jobs.
    public var interruptRunningOnShutdown: String?
    /// A shared log (docs/scale-out.md): the journal is then this node's replica. The caller owns it.
    public var sharedLog: (any SharedLog)?
    /// How long an append is retried while the shared log does not answer (nil: the default of
    /// `Logbook.Options.sharedLogRetryWindow`).
    public var sharedLogRetryWindow: Duration?

    /// When set, superseded heartbeats are dropped in place this often (microseconds), beside the
    /// appends. Refused with a shared log (a replica's events are removed through the shared log).
    public var dropSupersededHeartbeatsEveryMicroseconds: Int64?

    /// When set, jobs terminal, finalized and quiet for longer than `archiveAfterMicroseconds` move
    /// this often (microseconds) into a new dated bundle in `archiveDirectory`, in place, beside the
    /// appends. All three or none. Refused with a shared log, like the drop.
    public var archiveEveryMicroseconds: Int64?
    public var archiveAfterMicroseconds: Int64?
    public var archiveDirectory: String?

    public init() {}

    var reapInterval: Duration {
        .microseconds(max(reapIntervalMicroseconds ?? min(leaseMicroseconds, stallMicroseconds ?? .max) / 3, 1_000_000))
    }
}
