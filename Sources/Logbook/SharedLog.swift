import Journal
import Lifecycle

/// A system of record shared by many Logbook nodes (docs/scale-out.md), with each node's journal as
/// its local replica. `LogbookPostgres.PostgresLog` is the implementation on PostgreSQL; set one in
/// `Logbook.Options.sharedLog` and the logbook writes through it and follows it.
///
/// What an implementation promises:
/// - `commit` stores each batch of a group all or none, with the next versions of its jobs; a batch
///   whose expected versions do not hold fails alone with `JournalError.versionConflict`.
/// - For every job, the follow order of `read` is its version order, on every node.
/// - `read` never returns a row before one that could still appear earlier in the follow order
///   (a transaction that commits late is never skipped).
/// - With `retry`, batches whose event ids are stored already are answered as stored, not stored
///   again (a retry after a lost acknowledgement).
///
/// The logbook does not own its shared log: whoever made it calls `shutdown()` after closing every
/// logbook that uses it.
public protocol SharedLog: Sendable {
    /// The log's name, without secrets. Every replica records the name of the log it follows and
    /// refuses to follow another.
    var name: String { get }
    /// Stores `group` (one transaction; see the protocol's promises). Throws only when the group's
    /// outcome is not one answer per batch: unreachable, or unknown (`SharedLogError`).
    func commit(_ group: [[SharedLogEntry]], retry: Bool) async throws(SharedLogError) -> [Result<Void, JournalError>]
    /// `commit`, which may also place the stored rows in the follow order (`SharedLogCommit.placed`),
    /// with every row between `after` and them, so the committing node applies them without reading
    /// them back. `origin` names the committing logbook in its commit's notification, for
    /// `commitNotifications(except:)` and `commitNotices(except:)`. The default never places.
    func commit(_ group: [[SharedLogEntry]], retry: Bool, placingAfter after: ReplicaCursor?, origin: String) async throws(SharedLogError)
        -> SharedLogCommit
    /// At most `limit` rows after `cursor` (from the start when nil), in follow order.
    func read(after cursor: ReplicaCursor?, limit: Int) async throws(SharedLogError) -> [SharedLogRow]
    /// The id of the event stored at `cursor`, nil when the log holds none there. After a failover
    /// (and when it starts), a follower asks for the last event its replica applied: an answer other
    /// than that event's id means the new primary lost events the replica holds.
    func eventID(at cursor: ReplicaCursor) async throws(SharedLogError) -> EventID?
    /// Yields whenever rows may have been committed by any node: a hint (followers poll as well).
    func commitNotifications() -> AsyncStream<Void>
    /// `commitNotifications()` without the commits `origin` made itself (its own commits answer it
    /// directly). The default yields them all.
    func commitNotifications(except origin: String) -> AsyncStream<Void>
    /// `commitNotifications(except:)`, one element per notification, with the committing transaction
    /// (`ReplicaCursor.tx`) when the log knows it: a node whose own placed commit came after that
    /// transaction holds its rows already. Nil: read to find out. The default yields nil for each.
    func commitNotices(except origin: String) -> AsyncStream<Int64?>
    /// Which member serves the log and the last failover this process saw, for operators
    /// (`/healthz`, `/metrics`). The default: the log's name as its only member, never failed over.
    var topology: SharedLogTopology { get }
    func shutdown() async
}

extension SharedLog {
    public var topology: SharedLogTopology { SharedLogTopology(members: [name], primary: name) }

    public func commit(_ group: [[SharedLogEntry]], retry: Bool, placingAfter after: ReplicaCursor?, origin: String)
        async throws(SharedLogError) -> SharedLogCommit
    {
        SharedLogCommit(results: try await commit(group, retry: retry), placed: nil)
    }

    public func commitNotifications(except origin: String) -> AsyncStream<Void> { commitNotifications() }

    public func commitNotices(except origin: String) -> AsyncStream<Int64?> {
        let notifications = commitNotifications(except: origin)
        return AsyncStream { continuation in
            let task = Task {
                for await _ in notifications { continuation.yield(nil) }
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }
}

/// A commit's answer: one result per batch and, when the log could place them, the stored rows.
public struct SharedLogCommit: Sendable {
    public var results: [Result<Void, JournalError>]
    /// The rows this commit stored, in follow order, after those of other transactions that lie
    /// between the cursor the commit was given and them: the commit is durable, these are every row
    /// after that cursor through the commit's last, and none can appear among them later. Nil when
    /// the log cannot say so (another transaction older than this one was still running, or too
    /// many rows lie between).
    public var placed: [SharedLogRow]?
    public init(results: [Result<Void, JournalError>], placed: [SharedLogRow]?) { (self.results, self.placed) = (results, placed) }
}

/// The members of a shared log (a PostgreSQL primary and its standbys, say) as one process sees them.
public struct SharedLogTopology: Sendable, Equatable {
    /// Each member's name, without secrets, in the order given.
    public var members: [String]
    /// The member the log writes to and reads from; nil while it is being looked for.
    public var primary: String?
    /// Times the primary changed since this process first found it.
    public var failovers: Int
    public var lastFailover: Failover?

    public init(members: [String], primary: String?, failovers: Int = 0, lastFailover: Failover? = nil) {
        (self.members, self.primary, self.failovers, self.lastFailover) = (members, primary, failovers, lastFailover)
    }

    /// A change of primary this process saw: when it found the new one, and which it left.
    public struct Failover: Sendable, Equatable {
        /// When the new primary was found.
        public var at: Timestamp
        public var from: String
        public var to: String
        public init(at: Timestamp, from: String, to: String) { (self.at, self.from, self.to) = (at, from, to) }
    }
}

/// One event for the shared log: its record is encoded for seq 0 and version 0 (each replica writes
/// in its own seq and the version the shared log gives it).
public struct SharedLogEntry: Sendable {
    public var job: String
    public var type: EventType
    public var record: [UInt8]
    public var id: EventID
    public var expectedVersion: UInt64?
    public init(job: String, type: EventType, record: [UInt8], id: EventID, expectedVersion: UInt64?) {
        (self.job, self.type, self.record, self.id, self.expectedVersion) = (job, type, record, id, expectedVersion)
    }
}

/// One stored event as followers read it.
public struct SharedLogRow: Sendable {
    public var cursor: ReplicaCursor
    public var version: UInt64
    public var record: [UInt8]
    public var id: EventID
    public init(cursor: ReplicaCursor, version: UInt64, record: [UInt8], id: EventID) {
        (self.cursor, self.version, self.record, self.id) = (cursor, version, record, id)
    }
}

/// Why a shared log gave no answer per batch.
public enum SharedLogError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Nothing of the group was stored (the server was unreachable, or rolled the group back); a
    /// retry is safe.
    case unavailable(String)
    /// The group may or may not be stored (the connection died during the commit); only a retry
    /// with the same event ids is safe.
    case outcomeUnknown(String)
    /// The server refused the group for a reason a retry will not change.
    case failed(String)
    /// The server's storage is full (PostgreSQL's `53100 disk_full`): the group was rolled back, nothing
    /// of it is stored, and a retry succeeds once space is freed there.
    case storageFull(String)
    /// This node cannot work with the shared log as it is (its schema is newer than this build
    /// knows): nothing is retried, and the node stops following and refuses appends.
    case incompatible(String)

    public var description: String {
        switch self {
        case .unavailable(let detail): "unavailable: \(detail)"
        case .outcomeUnknown(let detail): "outcome unknown: \(detail)"
        case .failed(let detail): detail
        case .incompatible(let detail): detail
        case .storageFull(let detail): "storage full: \(detail)"
        }
    }
}
