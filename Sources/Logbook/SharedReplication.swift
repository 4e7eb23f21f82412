import ConcurrencyKit
import Journal
import Lifecycle
import Synchronization

// A logbook on a shared log (docs/scale-out.md): appends go through the shared log in groups (one
// transaction per group, as the local group commit does), and a follower applies everything the
// shared log holds to the local journal, which is a replica. An append answers once its events are
// committed there **and** applied here, with its jobs' states right after them: read-your-writes,
// exactly as embedded.
//
// This file holds the state; Logbook+SharedLogAppends.swift the commit queue,
// Logbook+SharedLogFollower.swift the follower, Logbook+SharedLogStatus.swift status and catch-up.

/// The state of a logbook on a shared log: the log, the commit queue, the appends waiting for their
/// events to be applied here, and the follower's status.
final class SharedReplication: Sendable {
    static let readLimit = 4_096
    /// Shared-log transactions one node keeps in flight.
    static let commitsInFlight = 1
    /// The most events one shared-log transaction carries (a single larger batch goes alone).
    static let groupEvents = 10_000
    /// How long a group is retried (same event ids) while the shared log is unreachable or its
    /// answer lost (`Options.sharedLogRetryWindow`).
    let commitRetryWindow: Duration

    struct Pending {
        var entries: [SharedLogEntry]
        var done: OneShot<Result<Void, JournalError>>
    }

    struct CommitQueue {
        var pending: [Pending] = []
        /// Commit loops running (each has one shared-log transaction in flight at a time).
        var running = 0
        var closed = false
    }

    struct CatchUps {
        var readsStarted = 0
        var closed = false
        var nextID = 0
        var waiting: [(generation: Int, id: Int, continuation: CheckedContinuation<Result<Void, JournalError>, Never>)] = []
    }

    let log: any SharedLog
    let doorbell = Doorbell()
    /// Each awaited event id, with its append and its place in that append's batch.
    let waiters = Mutex<[EventID: (waiter: AppendWaiter, index: Int)]>([:])
    /// Appends committed to the shared log and not yet applied here (the follower looks often then).
    let committedUnapplied = Mutex<Set<ObjectIdentifier>>([])
    let queue = Mutex(CommitQueue())
    let catchUps = Mutex(CatchUps())
    let tasks = Mutex<[Task<Void, Never>]>([])
    let commitObservers = Mutex<[@Sendable ([RecordedEvent]) -> Void]>([])
    let groupObservers = Mutex<[@Sendable (Int) -> Void]>([])
    let status = Mutex(Logbook.FollowerStatus(cursor: nil, reachable: true, lastError: nil, lagMilliseconds: 0, applied: 0, waitingAppends: 0, waitingCatchUps: 0,
        topology: SharedLogTopology(members: [], primary: nil), stopped: false))
    private let closed = Atomic<Bool>(false)
    /// Set when following stopped for good (the replica and the log disagree): appends fail with it.
    let failure = Mutex<JournalError?>(nil)

    init(log: any SharedLog, retryWindow: Duration) { (self.log, commitRetryWindow) = (log, retryWindow) }

    var isClosed: Bool { closed.load(ordering: .acquiring) }

    /// Whether following stopped for good (`stop(failing:)`).
    var hasStopped: Bool { failure.withLock { $0 != nil } }

    /// Ends following for good: pending appends, catch-ups and later appends fail with `error`.
    func stop(failing error: JournalError) {
        failure.withLock { $0 = error }
        status.withLock { $0.lastError = "\(error)" }
        failAll(error)
    }

    func close() {
        closed.store(true, ordering: .releasing)
        tasks.withLock { for t in $0 { t.cancel() } }
        doorbell.ring()
        let pending = queue.withLock { q -> [Pending] in
            q.closed = true
            return q.running > 0 ? [] : q.pending  // a running loop answers its own queue
        }
        for p in pending { p.done.fulfil(.failure(.closed)) }
        failAll(.closed)
    }

    private func failAll(_ error: JournalError) {
        let waiting = waiters.withLock { w -> [AppendWaiter] in
            defer { w = [:] }
            return w.values.map(\.waiter)
        }
        for w in waiting { w.done.fulfil(.failure(error)) }
        committedUnapplied.withLock { $0 = [] }
        let catchUpWaiters = catchUps.withLock { c in
            c.closed = true
            defer { c.waiting = [] }
            return c.waiting
        }
        for w in catchUpWaiters { w.continuation.resume(returning: .failure(error)) }
    }
}
