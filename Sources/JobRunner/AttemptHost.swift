import Lifecycle

/// Where a run keeps its job: the embedded `Logbook` (its journal, in this process) or a service
/// over HTTP (`LogbookClient.RemoteLogbook`). The run loop (`AttemptRun`) is the same for both:
/// start under the version read, heartbeat, stop the body when the job is decided elsewhere, record
/// how it ended.
public protocol AttemptHost: Sendable {
    /// The job's state, read fresh (nil: no event of it yet).
    func readState(of job: String) async throws -> JobState?
    /// The job's state as last known here, without asking anyone (for `RunningJob.state`).
    func knownState(of job: String) -> JobState?
    /// Appends `event`, guarded by `expectedVersion` when given; answers the job's state after it
    /// and the event's seq.
    func append(_ event: Event, expectedVersion: UInt64?) async throws -> (state: JobState, seq: UInt64)
    /// Whether `error` (from `append`) says the expected version did not hold.
    func isVersionConflict(_ error: any Error) -> Bool
    /// The job's states from now on, each change once (the run watches it). `after` is the state
    /// right after the run's start; a host that learns of events rather than states folds them into it.
    func changes(of job: String, after start: AttemptStart) -> AsyncStream<JobState>
}

/// What a run's start stored: the attempt, and the job's state and seq right after it.
public struct AttemptStart: Sendable {
    public var attempt: UInt32
    public var state: JobState
    /// The seq of the start event.
    public var seq: UInt64
    public init(attempt: UInt32, state: JobState, seq: UInt64) { (self.attempt, self.state, self.seq) = (attempt, state, seq) }
}
