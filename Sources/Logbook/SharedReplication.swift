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
        /// Answered with the commit's failure, or, once committed, when its events are applied here.
        var waiter: AppendWaiter
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

    /// Rows this node's commits placed in the shared log's follow order, for the follower to apply
    /// without reading them back (docs/scale-out.md, "Own rows, placed").
    struct Placements {
        /// Oldest first: each placement's rows come right after its `after`.
        var queue: [(after: ReplicaCursor, rows: [SharedLogRow])] = []
        /// The last placed row, while the last commit was placed.
        var through: ReplicaCursor?
        var applied = ReplicaCursor.start
        /// Whether the follower must read the log (a notification, a commit not placed, a catch-up),
        /// as opposed to a wake-up for placed rows only.
        var readWanted = true
        /// This node's commits in flight, and the newest transaction of another node notified and
        /// not yet here: a placed answer brings its rows when it came before the commit.
        var committing = 0
        var notified: (tx: Int64, at: ContinuousClock.Instant)?

        /// Where the next commit asks to be placed: after the last placed row while the last commit
        /// was placed, unless the follower read past it; else after what the follower applied.
        var nextAfter: ReplicaCursor { max(through ?? applied, applied) }
    }

    let log: any SharedLog
    /// This logbook's name in its commits' notifications (its own are not read back).
    let origin = EventID.random().description
    let placements = Mutex(Placements())
    let doorbell = Doorbell()
    /// Each awaited event id, with its appends and the id's place in each one's batch.
    let waiters = Mutex(WaiterTable())
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
        wantRead()
        let pending = queue.withLock { q -> [Pending] in
            q.closed = true
            return q.running > 0 ? [] : q.pending  // a running loop answers its own queue
        }
        for p in pending { refuse(p, .closed) }
        failAll(.closed)
    }

    /// Answers an append whose group was not committed (or whose outcome is unknown) with `error`;
    /// unless its events were applied here meanwhile (an unknown outcome that was a success), which
    /// then is its answer.
    func refuse(_ pending: Pending, _ error: JournalError) {
        unregister(pending.waiter)
        pending.waiter.done.fulfil(.failure(error))
    }

    /// Wakes the follower to read the shared log.
    func wantRead() {
        placements.withLock { $0.readWanted = true }
        doorbell.ring()
    }

    /// Whether a read was wanted since the last call (and no longer is).
    func takeReadWanted() -> Bool {
        placements.withLock { p in
            defer { p.readWanted = false }
            return p.readWanted
        }
    }

    /// A commit of another node was notified, with its transaction when the notification names it.
    /// Its rows are read, unless a placement of this node already brings them (it came before a
    /// placed commit), or this node's next commit may: one in flight, or one beginning within
    /// `noticeGrace` (the follower waits that long before it reads).
    func noticed(_ tx: Int64?) {
        let ring = placements.withLock { p -> Bool in
            guard let tx else {
                p.readWanted = true
                return true
            }
            if tx < p.applied.tx || p.through.map({ tx < $0.tx }) == true { return false }
            defer { p.notified = (max(p.notified?.tx ?? tx, tx), p.notified?.at ?? .now) }
            return p.notified == nil && p.committing == 0  // the follower starts its wait
        }
        if ring { doorbell.ring() }
    }

    /// How long the follower waits, with another node's commit notified and not yet here, before
    /// it reads: for this node's next commit to begin, whose answer brings it (`noticed`).
    static let noticeGrace: Duration = .milliseconds(10)

    /// What the follower does with no read wanted: nil, nothing to wait for but the doorbell (or
    /// the poll); else how long it waits before it reads (a notice of another node's commit that no
    /// commit of this node is bringing; `.zero`: read now).
    func noticeWait() -> Duration? {
        placements.withLock { p in
            guard let notified = p.notified, p.committing == 0 else { return nil }
            return max(.zero, notified.at + Self.noticeGrace - .now)
        }
    }

    /// A read begins: it brings every notified commit (or a later read does, once xmin passes it).
    func readStarts() {
        placements.withLock { $0.notified = nil }
    }

    /// A commit begins: the cursor it asks to be placed after (its answer goes to `placed`).
    func beginCommit() -> ReplicaCursor {
        placements.withLock { p in
            p.committing += 1
            return p.nextAfter
        }
    }

    /// Records a commit's placement (nil: not placed, so the next commit is placed only after what the
    /// follower applied, and the follower reads) and wakes the follower. A transaction notified
    /// meanwhile and not among the placed rows waits for the next commit, or `noticeGrace`.
    func placed(_ rows: [SharedLogRow]?, after: ReplicaCursor) {
        placements.withLock { p in
            p.committing = max(0, p.committing - 1)
            guard let last = rows?.last, let rows else {
                p.through = nil
                p.readWanted = true
                p.notified = nil
                return
            }
            p.queue.append((after, rows))
            p.through = last.cursor
            // A notified commit after this one (it took the order lock next, and committed while this
            // answer was on its way) waits for the next commit's answer, or the grace, from now.
            if let notified = p.notified { p.notified = notified.tx >= last.cursor.tx ? (notified.tx, .now) : nil }
        }
        doorbell.ring()
    }

    /// The placed rows that come right after `cursor`, what the follower has applied (recorded as
    /// such for `beginCommit`); placements it has read past are dropped, and one it read into gives
    /// the rest of its rows. Nil when none comes next (the follower reads instead).
    func nextPlacement(after cursor: ReplicaCursor?) -> [SharedLogRow]? {
        let cursor = cursor ?? .start
        return placements.withLock { p in
            p.applied = cursor
            while let first = p.queue.first, let last = first.rows.last, last.cursor <= cursor { p.queue.removeFirst() }
            guard let first = p.queue.first else { return nil }
            if first.after == cursor {
                p.queue.removeFirst()
                return first.rows
            }
            guard first.after < cursor, let i = first.rows.firstIndex(where: { $0.cursor == cursor }) else { return nil }
            p.queue.removeFirst()
            return Array(first.rows[(i + 1)...])
        }
    }

    /// Forgets every placement (after a failed read or a failover: the follower reads everything).
    func forgetPlacements() {
        placements.withLock { p in
            p.queue = []
            p.through = nil
            p.readWanted = true
        }
    }

    private func failAll(_ error: JournalError) {
        let waiting = waiters.withLock { w -> [AppendWaiter] in
            defer { w = WaiterTable() }
            return w.all
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

/// The appends waiting for their events, by event id. An id is usually awaited by one append; a
/// client's retry that reaches the node while its first attempt is still in flight awaits the same
/// ids again, and both are answered when the events are applied (the retry as a replay).
struct WaiterTable {
    typealias Entry = (waiter: AppendWaiter, index: Int)
    private var first: [EventID: Entry] = [:]
    /// Further appends awaiting an id at once: rare, so kept apart from the common case.
    private var more: [EventID: [Entry]] = [:]

    mutating func add(_ waiter: AppendWaiter, ids: [EventID]) {
        for (i, id) in ids.enumerated() {
            if first[id] == nil { first[id] = (waiter, i) } else { more[id, default: []].append((waiter, i)) }
        }
    }

    mutating func remove(_ waiter: AppendWaiter, ids: [EventID]) {
        for id in ids {
            if var others = more[id] {
                others.removeAll { $0.waiter === waiter }
                if first[id]?.waiter === waiter { first[id] = others.isEmpty ? nil : others.removeFirst() }
                more[id] = others.isEmpty ? nil : others
            } else if first[id]?.waiter === waiter {
                first[id] = nil
            }
        }
    }

    /// The appends awaiting `id`: the first, and any others.
    func waiting(for id: EventID) -> (first: Entry, more: [Entry]?)? {
        first[id].map { ($0, more[id]) }
    }

    /// Every waiting append, once each.
    var all: [AppendWaiter] {
        var seen = Set<ObjectIdentifier>()
        return (first.values.map(\.waiter) + more.values.joined().map(\.waiter)).filter { seen.insert(ObjectIdentifier($0)).inserted }
    }
}
