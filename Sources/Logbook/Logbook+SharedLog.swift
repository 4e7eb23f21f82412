import Journal
import Lifecycle
import Synchronization

/// A logbook on a shared log (docs/scale-out.md): appends go through the shared log in groups (one
/// transaction per group, as the local group commit does), and a follower applies everything the
/// shared log holds to the local journal, which is a replica. An append answers once its events are
/// committed there **and** applied here, with its jobs' states right after them: read-your-writes,
/// exactly as embedded.
extension Logbook {
    /// What this node's follower knows (nil from `followerStatus()` on a logbook without a shared log).
    public struct FollowerStatus: Sendable {
        /// The shared log's place of the last record applied here.
        public var cursor: ReplicaCursor?
        /// Whether the last read of the shared log succeeded.
        public var reachable: Bool
        /// The last error reading or applying, while it lasts.
        public var lastError: String?
        /// Time from an event's acceptance by any node to its application here, for the newest
        /// record of the last batch applied (0 before the first).
        public var lagMilliseconds: Double
        /// Records this node applied since it opened.
        public var applied: Int
        /// Appends by this node that are committed or committing and not yet answered.
        public var waitingAppends: Int
        /// Calls to `catchUp` waiting for the follower.
        public var waitingCatchUps: Int
        /// The shared log's members, its primary, and the last failover this node saw.
        public var topology: SharedLogTopology
        /// Following stopped for good (the replica and the shared log disagree; `lastError` says
        /// how): appends on this node are refused until the replica is replaced.
        public var stopped: Bool
    }

    /// Waits until this node's replica holds everything the shared log had committed when the call
    /// began (what a command run beside no service needs before it reads). Returns at once on a
    /// logbook without a shared log. Fails (`JournalError.sharedLog`, naming the error) when a read
    /// of the shared log fails meanwhile, or, with `limit`, when it takes longer.
    public func catchUp(within limit: Duration? = nil) async throws(JournalError) {
        guard let shared else { return }
        let id = shared.catchUps.withLock { c in
            c.nextID += 1
            return c.nextID
        }
        if let limit {
            Task.detached { [weak shared] in
                try? await Task.sleep(for: limit)
                guard let shared else { return }
                let why = shared.status.withLock { $0.lastError } ?? "still applying"
                shared.resumeCatchUp(id, .failure(.sharedLog("\(shared.log.name): not caught up within \(limit): \(why)")))
            }
        }
        let result: Result<Void, JournalError> = await withCheckedContinuation { continuation in
            let closed = shared.catchUps.withLock { c -> Bool in
                if c.closed { return true }
                c.waiting.append((c.readsStarted, id, continuation))
                return false
            }
            if closed { continuation.resume(returning: .failure(.closed)) }
            shared.doorbell.ring()
        }
        try result.get()
    }

    // MARK: appends

    func appendThroughSharedLog(_ items: [AppendItem], _ shared: SharedReplication) async throws(JournalError) -> AppendOutcome {
        try Journal.validate(items)
        let now = options.clock()
        var entries: [SharedLogEntry] = []
        entries.reserveCapacity(items.count)
        for item in items {
            var event = item.event
            if event.at == nil { event.at = now }
            entries.append(
                SharedLogEntry(
                    job: event.job, type: event.type, record: Journal.encodeRecord(seq: 0, version: 0, appendedAt: now, event: event),
                    id: .random(), expectedVersion: item.expectedVersion))
        }
        let waiter = AppendWaiter(count: entries.count, jobs: Set(items.map { ExactID($0.event.job) }))
        try shared.register(waiter, ids: entries.map(\.id))
        let committed = await shared.commit(entries)
        if case .failure(let error) = committed {
            shared.unregister(entries.map(\.id))
            throw error
        }
        shared.committedUnapplied.withLock { _ = $0.insert(ObjectIdentifier(waiter)) }
        if waiter.isDone { shared.committedUnapplied.withLock { _ = $0.remove(ObjectIdentifier(waiter)) } }
        return try await waiter.done.value.get()
    }

    // MARK: the follower

    func startFollowing(_ shared: SharedReplication) {
        let follower = Task.detached { [weak self] in
            guard let self else { return }
            await self.follow(shared)
        }
        let notifications = Task.detached {
            for await _ in shared.log.commitNotifications() { shared.doorbell.ring() }
        }
        shared.tasks.withLock { $0 = [follower, notifications] }
    }

    private func follow(_ shared: SharedReplication) async {
        var cursor: ReplicaCursor?
        do throws(JournalError) {
            cursor = try journal.replicaCursor()
        } catch {
            shared.stop(failing: error)
            return
        }
        var failures = 0
        // The last event this process applied, and the failovers it has checked: after a change of
        // primary (and once at start, by position only), the log must still hold the replica's last
        // event, or the replica holds events the shared log lost (docs/scale-out.md).
        var lastID: EventID?
        var checkedFailovers = -1
        // The current outage: when it began, and whether it was reported (a catch-up was told, or
        // the follower warned). Warnings are for a process nobody else reports to (`serve`): one
        // per outage, once it has lasted `SharedReplication.warnAfter`, so that a command whose
        // catch-up was about to ask is told the error (and prints it) instead.
        var outage: (since: ContinuousClock.Instant, reported: Bool)?
        while !Task.isCancelled, !shared.isClosed {
            let generation = shared.catchUps.withLock { c in
                c.readsStarted += 1
                return c.readsStarted
            }
            let rows: [SharedLogRow]
            var held: (failovers: Int, id: EventID?)?
            do throws(SharedLogError) {
                rows = try await shared.log.read(after: cursor, limit: SharedReplication.readLimit)
                // Read after the read: a failover it went through is counted, so its rows are checked.
                let failovers = shared.log.topology.failovers
                if let cursor, failovers != checkedFailovers { held = (failovers, try await shared.log.eventID(at: cursor)) }
                failures = 0
            } catch {
                if Task.isCancelled || shared.isClosed { return }
                // Every waiting catch-up cannot succeed now, even one asked during this read: say why
                // rather than wait. Its caller reports the error.
                let told = shared.answerCatchUps(before: .max, .failure(.sharedLog("\(shared.log.name): \(error)")))
                failures += 1
                var current = outage ?? (ContinuousClock.now, false)
                if told > 0 { current.reported = true }
                if !current.reported && ContinuousClock.now - current.since >= SharedReplication.warnAfter {
                    options.warn("cannot read the shared log \(shared.log.name): \(error); retrying")
                    current.reported = true
                }
                outage = current
                shared.status.withLock { s in
                    s.reachable = false
                    s.lastError = "\(error)"
                }
                await shared.doorbell.wait(timeout: SharedReplication.pause(afterFailures: failures))
                continue
            }
            if let held, let cursor {
                guard held.id != nil, lastID == nil || held.id == lastID else {
                    let detail =
                        "\(shared.log.name) no longer holds the last event this replica applied (tx \(cursor.tx), position "
                            + "\(cursor.position)\(lastID.map { ", event \($0)" } ?? "")): its primary failed over without events "
                            + "it had committed (asynchronous replication?). Following stopped and appends here are refused: "
                            + "find what was lost by comparing this replica's export with a new replica's, then replace this one"
                    options.warn(detail)
                    shared.stop(failing: .sharedLog(detail))
                    return
                }
                checkedFailovers = held.failovers
            }
            outage = nil
            shared.status.withLock { s in
                s.reachable = true
                s.lastError = nil
            }
            if let last = rows.last {
                do throws(JournalError) {
                    let records = rows.map { Journal.ReplicatedRecord(cursor: $0.cursor, version: $0.version, record: $0.record) }
                    let applied = try await journal.applyReplicated(records, from: shared.log.name)
                    (cursor, lastID) = (last.cursor, last.id)
                    fold(rows, applied, shared)
                } catch {
                    if case .closed = error { return }
                    options.warn("cannot apply the shared log \(shared.log.name) to this replica: \(error); following stopped")
                    shared.stop(failing: error)
                    return
                }
            }
            if rows.count < SharedReplication.readLimit {
                shared.answerCatchUps(before: generation, .success(()))
                if rows.isEmpty {
                    // An append committed but not yet readable waits for an earlier transaction to end
                    // (nothing notifies that): look often. Otherwise wait for a notification.
                    let busy = !shared.committedUnapplied.withLock { $0.isEmpty }
                    await shared.doorbell.wait(timeout: busy ? .milliseconds(2) : options.sharedLogPollInterval)
                }
            }
        }
    }

    /// Folds what the follower applied into the projections, answering each waiting append right
    /// after its own last event (so its states are those right after it, as embedded).
    private func fold(_ rows: [SharedLogRow], _ applied: [RecordedEvent], _ shared: SharedReplication) {
        // Records at or before the stored cursor (a prefix) were applied by another process following
        // the same log into this replica: fold them from the journal, then find the ones awaited here.
        let skipped = rows.count - applied.count
        if skipped > 0 {
            _ = try? refresh()
            for row in rows.prefix(skipped) {
                guard let (waiter, index) = shared.waiters.withLock({ $0[row.id] }) else { continue }
                let job = row.record.withUnsafeBytes { try? Journal.decodeRecord(seq: 0, bytes: $0, strict: false) }?.event.job
                let stored = job.flatMap { job in try? journal.events(ofJob: job).first { $0.version == row.version } }
                if let stored, waiter.set(index, stored) { finish(waiter, shared) }
            }
        }
        var start = 0
        for (i, event) in applied.enumerated() {
            guard let (waiter, index) = shared.waiters.withLock({ $0[rows[skipped + i].id] }) else { continue }
            if waiter.set(index, event) {
                absorb(Array(applied[start...i]))
                start = i + 1
                finish(waiter, shared)
            }
        }
        if start < applied.count { absorb(Array(applied[start...])) }
        if !applied.isEmpty { for observe in shared.commitObservers.withLock({ $0 }) { observe(applied) } }
        if let last = applied.last {
            let lag = Double(options.clock().microseconds - last.appendedAt.microseconds) / 1000
            shared.status.withLock { s in
                s.cursor = rows.last?.cursor
                s.applied += applied.count
                s.lagMilliseconds = max(0, lag)
            }
        } else {
            shared.status.withLock { $0.cursor = rows.last?.cursor }
        }
    }

    private func finish(_ waiter: AppendWaiter, _ shared: SharedReplication) {
        let events = waiter.events
        shared.unregister(waiter.ids)
        shared.committedUnapplied.withLock { _ = $0.remove(ObjectIdentifier(waiter)) }
        let states = projections.withLock { p in
            Dictionary(uniqueKeysWithValues: waiter.jobs.compactMap { job in p.state(of: job.string).map { (job, $0) } })
        }
        waiter.done.fulfil(.success(AppendOutcome(events: events, states: states)))
    }
}

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
        var done: Promise<Result<Void, JournalError>>
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
    private let failure = Mutex<JournalError?>(nil)

    init(log: any SharedLog, retryWindow: Duration) { (self.log, commitRetryWindow) = (log, retryWindow) }

    var isClosed: Bool { closed.load(ordering: .acquiring) }

    /// Whether following stopped for good (`stop(failing:)`).
    var hasStopped: Bool { failure.withLock { $0 != nil } }

    /// Answers every catch-up asked before read `generation` began; how many there were.
    @discardableResult
    func answerCatchUps(before generation: Int, _ result: Result<Void, JournalError>) -> Int {
        let due = catchUps.withLock { c in
            let (due, rest) = (c.waiting.filter { $0.generation < generation }, c.waiting.filter { $0.generation >= generation })
            c.waiting = rest
            return due
        }
        for w in due { w.continuation.resume(returning: result) }
        return due.count
    }

    func resumeCatchUp(_ id: Int, _ result: Result<Void, JournalError>) {
        let waiting = catchUps.withLock { c -> CheckedContinuation<Result<Void, JournalError>, Never>? in
            guard let i = c.waiting.firstIndex(where: { $0.id == id }) else { return nil }
            return c.waiting.remove(at: i).continuation
        }
        waiting?.resume(returning: result)
    }

    func register(_ waiter: AppendWaiter, ids: [EventID]) throws(JournalError) {
        if let failure = failure.withLock({ $0 }) { throw failure }
        if isClosed { throw .closed }
        waiter.ids = ids
        waiters.withLock { w in for (i, id) in ids.enumerated() { w[id] = (waiter, i) } }
    }

    func unregister(_ ids: [EventID]) {
        waiters.withLock { w in for id in ids { w[id] = nil } }
    }

    /// Hands `entries` to the shared-log committer; answers once their group is committed or refused.
    func commit(_ entries: [SharedLogEntry]) async -> Result<Void, JournalError> {
        let done = Promise<Result<Void, JournalError>>()
        let start = queue.withLock { q -> Bool? in
            if q.closed { return nil }
            q.pending.append(Pending(entries: entries, done: done))
            if q.running >= Self.commitsInFlight { return false }
            q.running += 1
            return true
        }
        guard let start else { return .failure(.closed) }
        if start { Task.detached { await self.commitLoop() } }
        return await done.value
    }

    /// Up to `commitsInFlight` loops, each with one group in flight: everything that queued while
    /// they were busy is the next group. The advisory locks keep each job's versions in xid order
    /// whatever the concurrency; measured on 2 cores, one loop per node gave the most events/s
    /// (larger groups; several nodes already keep PostgreSQL's WAL flushes shared).
    private func commitLoop() async {
        while true {
            let (group, refused) = queue.withLock { q -> ([Pending]?, [Pending]) in
                if q.pending.isEmpty || q.closed {
                    q.running -= 1
                    defer { q.pending = [] }
                    return (nil, q.pending)  // closed: what has not begun is refused, not committed
                }
                var n = 0
                var take = 0
                while take < q.pending.count, take == 0 || n + q.pending[take].entries.count <= Self.groupEvents {
                    n += q.pending[take].entries.count
                    take += 1
                }
                defer { q.pending.removeFirst(take) }
                return (Array(q.pending.prefix(take)), [])
            }
            for p in refused { p.done.fulfil(.failure(.closed)) }
            guard let group else { return }
            let results = await commitWithRetries(group.map(\.entries))
            let events = group.reduce(0) { $0 + $1.entries.count }
            for observe in groupObservers.withLock({ $0 }) { observe(events) }
            for (pending, result) in zip(group, results) { pending.done.fulfil(result) }
            doorbell.ring()
        }
    }

    /// How long an outage nobody was told about lasts before the follower warns about it.
    static let warnAfter: Duration = .seconds(1)

    /// How long to wait before trying the shared log again after `failures` failures in a row: 25 ms
    /// doubling to at most 250 ms. A failover ends with a standby promoted, and each try asks every
    /// member whether it is the primary (cheap), so a longer pause would only lengthen the outage
    /// (pauses of up to 2 s added 1.8 s to a failover in Tools/ha).
    static func pause(afterFailures failures: Int) -> Duration { .milliseconds(min(250, 25 << min(max(failures - 1, 0), 4))) }

    /// Retries a group whose outcome is unknown (or that the server rolled back) with the same event
    /// ids: the shared log answers batches already stored as stored, so nothing is stored twice.
    private func commitWithRetries(_ group: [[SharedLogEntry]]) async -> [Result<Void, JournalError>] {
        var last: SharedLogError?
        let deadline = ContinuousClock.now + commitRetryWindow
        var attempt = 0
        while attempt == 0 || ContinuousClock.now < deadline {
            if attempt > 0 {
                if isClosed, case .unavailable = last { break }
                try? await Task.sleep(for: SharedReplication.pause(afterFailures: attempt))
            }
            attempt += 1
            do throws(SharedLogError) {
                return try await log.commit(group, retry: attempt > 1)
            } catch {
                last = error
                if case .failed = error { break }
            }
        }
        let detail: String
        switch last {
        case .outcomeUnknown(let why)?:
            detail = "\(log.name): the commit's outcome is unknown after \(attempt) attempts (\(why)); "
                + "the events may be stored: read the job before appending again"
        case let error?: detail = "\(log.name): \(error)"
        case nil: detail = "\(log.name): closed"
        }
        return group.map { _ in .failure(.sharedLog(detail)) }
    }

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

/// An append waiting for its events to be applied to this node's replica.
final class AppendWaiter: Sendable {
    let jobs: Set<ExactID>
    private let slots: Mutex<(events: [RecordedEvent?], missing: Int, ids: [EventID])>
    let done = Promise<Result<AppendOutcome, JournalError>>()

    init(count: Int, jobs: Set<ExactID>) {
        self.jobs = jobs
        slots = Mutex((Array(repeating: nil, count: count), count, []))
    }

    var ids: [EventID] {
        get { slots.withLock { $0.ids } }
        set { slots.withLock { $0.ids = newValue } }
    }

    /// Records event `index`; true when it was the last one missing.
    func set(_ index: Int, _ event: RecordedEvent) -> Bool {
        slots.withLock { s in
            guard s.events[index] == nil else { return false }
            s.events[index] = event
            s.missing -= 1
            return s.missing == 0
        }
    }

    var events: [RecordedEvent] { slots.withLock { $0.events.compactMap { $0 } } }
    var isDone: Bool { slots.withLock { $0.missing == 0 } }
}

/// A value many tasks may await, fulfilled once.
final class Promise<Value: Sendable>: Sendable {
    private let state = Mutex<(value: Value?, waiting: [CheckedContinuation<Value, Never>])>((nil, []))

    func fulfil(_ value: Value) {
        let waiting = state.withLock { s -> [CheckedContinuation<Value, Never>] in
            guard s.value == nil else { return [] }
            s.value = value
            defer { s.waiting = [] }
            return s.waiting
        }
        for c in waiting { c.resume(returning: value) }
    }

    var value: Value {
        get async {
            await withCheckedContinuation { c in
                let ready = state.withLock { s -> Value? in
                    if let v = s.value { return v }
                    s.waiting.append(c)
                    return nil
                }
                if let ready { c.resume(returning: ready) }
            }
        }
    }
}

/// Wakes one waiting task; a ring with nobody waiting is kept for the next wait.
final class Doorbell: Sendable {
    private let state = Mutex<(rung: Bool, generation: Int, waiting: CheckedContinuation<Void, Never>?)>((false, 0, nil))

    func ring() {
        let waiting = state.withLock { s -> CheckedContinuation<Void, Never>? in
            guard let w = s.waiting else {
                s.rung = true
                return nil
            }
            s.waiting = nil
            return w
        }
        waiting?.resume()
    }

    /// Returns at the next ring (or at once for one since the last wait), or after `timeout`.
    func wait(timeout: Duration) async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let generation = state.withLock { s -> Int? in
                if s.rung {
                    s.rung = false
                    return nil
                }
                s.generation += 1
                s.waiting = c
                return s.generation
            }
            guard let generation else { return c.resume() }
            Task.detached {
                try? await Task.sleep(for: timeout)
                self.expire(generation)
            }
        }
    }

    private func expire(_ generation: Int) {
        let waiting = state.withLock { s -> CheckedContinuation<Void, Never>? in
            guard s.generation == generation, let w = s.waiting else { return nil }
            s.waiting = nil
            return w
        }
        waiting?.resume()
    }
}


extension Logbook.Maintenance {
    /// What this node's follower knows; nil on a logbook without a shared log.
    public func followerStatus() -> Logbook.FollowerStatus? {
        guard let shared = logbook.shared else { return nil }
        var status = shared.status.withLock { $0 }
        status.waitingAppends = shared.waiters.withLock { Set($0.values.map { ObjectIdentifier($0.waiter) }).count }
        status.waitingCatchUps = shared.catchUps.withLock { $0.waiting.count }
        status.topology = shared.log.topology
        status.stopped = shared.hasStopped
        return status
    }
}
