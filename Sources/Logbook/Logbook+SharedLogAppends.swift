import ConcurrencyKit
import Journal
import Lifecycle
import Synchronization

/// Appends on a shared log: committed there in groups, answered once applied here.
extension Logbook {
    func appendThroughSharedLog(_ items: [AppendItem], _ shared: SharedReplication) async throws(JournalError) -> AppendOutcome {
        try Journal.validate(items)
        // A retry whose ids this replica holds already is answered from it (the replica is a prefix
        // of the shared log); ids the log holds but this node has not applied yet are found there
        // (the commit function skips a batch whose ids are all stored, refuses a mixed one).
        if items.contains(where: { $0.event.id != nil }), let stored = try journal.storedEvents(forIDsOf: items) {
            let jobs = Set(items.map { ExactID($0.event.job) })
            let states = projections.withLock { p in
                Dictionary(uniqueKeysWithValues: jobs.compactMap { job in p.state(of: job.string).map { (job, $0) } })
            }
            return AppendOutcome(events: stored, states: states, replayed: true)
        }
        let now = options.clock()
        var entries: [SharedLogEntry] = []
        entries.reserveCapacity(items.count)
        for item in items {
            var event = item.event
            if event.at == nil { event.at = now }
            entries.append(
                SharedLogEntry(
                    job: event.job, type: event.type, record: Journal.encodeRecord(seq: 0, version: 0, appendedAt: now, event: event),
                    id: event.id ?? .timeOrdered(unixMilliseconds: UInt64(max(0, now.microseconds / 1_000))),
                    expectedVersion: item.expectedVersion))
        }
        let waiter = AppendWaiter(count: entries.count, jobs: Set(items.map { ExactID($0.event.job) }))
        try shared.register(waiter, ids: entries.map(\.id))
        // One wait: the commit loop answers a failure, the follower a success once applied here.
        shared.commit(entries, waiter)
        let outcome = try await waiter.done.value.get()
        // A batch another node stored first under these ids (not yet applied here when checked):
        // the events applied are that node's; they must be these.
        for (item, stored) in zip(items, outcome.events) where item.event.id != nil {
            if !Journal.isSameEvent(stored.event, as: item.event), let id = item.event.id {
                throw .idConflict(
                    id: id,
                    detail: "it was stored for another event (seq \(stored.seq): job \"\(stored.event.job)\", type "
                        + "\(stored.event.type.name))")
            }
        }
        // Stored by an earlier request (through another node, or through this one while its first
        // attempt was still in flight): the records carry that request's append time, never this
        // one's, since a node stamps each request's records once. A replay, as from the replica.
        if items.allSatisfy({ $0.event.id != nil }), outcome.events.allSatisfy({ $0.appendedAt != now }) {
            return AppendOutcome(events: outcome.events, states: outcome.states, replayed: true)
        }
        return outcome
    }
}

/// The commit queue: appends wait here for their group's shared-log transaction.
extension SharedReplication {
    func register(_ waiter: AppendWaiter, ids: [EventID]) throws(JournalError) {
        if let failure = failure.withLock({ $0 }) { throw failure }
        if isClosed { throw .closed }
        waiter.ids = ids
        waiters.withLock { $0.add(waiter, ids: ids) }
    }

    func unregister(_ waiter: AppendWaiter) {
        let ids = waiter.ids
        waiters.withLock { $0.remove(waiter, ids: ids) }
    }

    /// Hands `entries` to the shared-log committer: `waiter` is answered with the failure if their
    /// group is not committed, else by the follower once they are applied here.
    func commit(_ entries: [SharedLogEntry], _ waiter: AppendWaiter) {
        let pending = Pending(entries: entries, waiter: waiter)
        let start = queue.withLock { q -> Bool? in
            if q.closed { return nil }
            q.pending.append(pending)
            if q.running >= Self.commitsInFlight { return false }
            q.running += 1
            return true
        }
        guard let start else { return refuse(pending, .closed) }
        if start { Task.detached { await self.commitLoop() } }
    }

    /// Up to `commitsInFlight` loops, each with one group in flight: everything that queued while
    /// they were busy is the next group. The advisory locks keep each job's versions in xid order
    /// whatever the concurrency; one loop gives the largest groups (docs/scale-out.md).
    private func commitLoop() async {
        while true {
            let (group, refused) = queue.withLock { q -> ([Pending]?, [Pending]) in
                if q.pending.isEmpty || q.closed {
                    q.running -= 1
                    defer { q.pending = [] }
                    return (nil, q.pending)  // closed: what has not begun is refused, not committed
                }
                return (q.pending.removeGroup(upTo: Self.groupEvents, weight: \.entries.count), [])
            }
            for p in refused { refuse(p, .closed) }
            guard let group else { return }
            let after = beginCommit()
            let answer = await commitWithRetries(group.map(\.entries), placingAfter: after)
            let results = answer.results
            let events = group.reduce(0) { $0 + $1.entries.count }
            for observe in groupObservers.withLock({ $0 }) { observe(events) }
            status.withLock { s in
                s.commits += 1
                if answer.placed != nil { s.placedCommits += 1 }
            }
            // Placed rows are applied by the follower without reading them back; otherwise it reads.
            placed(answer.placed, after: after)
            for (pending, result) in zip(group, results) {
                if case .failure(let error) = result {
                    refuse(pending, error)
                    continue
                }
                // Committed, not yet applied here (the follower looks again soon while any is).
                // Checked under the set's lock: the follower removes an append after it is done, so one
                // done already is never inserted, even for an instant (that made the follower read).
                committedUnapplied.withLock { if !pending.waiter.isDone { $0.insert(ObjectIdentifier(pending.waiter)) } }
            }
        }
    }

    /// How long to wait before trying the shared log again after `failures` failures in a row: 25 ms
    /// doubling to at most 250 ms. A failover ends with a standby promoted, and each try asks every
    /// member whether it is the primary (cheap), so a longer pause would only lengthen the outage
    /// (docs/scale-out.md, failover).
    static func pause(afterFailures failures: Int) -> Duration { .milliseconds(min(250, 25 << min(max(failures - 1, 0), 4))) }

    /// Retries a group whose outcome is unknown (or that the server rolled back) with the same event
    /// ids: the shared log answers batches already stored as stored, so nothing is stored twice.
    /// Once any attempt's outcome was unknown, only an answer (stored, or refused by the log) ends
    /// the doubt: a later failure of another kind leaves the final answer "outcome unknown", never
    /// "nothing stored", so a client does not retry into a second copy.
    func commitWithRetries(_ group: [[SharedLogEntry]], placingAfter after: ReplicaCursor) async -> SharedLogCommit {
        var last: SharedLogError?
        var unknown: String?
        let deadline = ContinuousClock.now + commitRetryWindow
        var attempt = 0
        while attempt == 0 || ContinuousClock.now < deadline {
            if attempt > 0 {
                if isClosed, case .unavailable = last { break }
                try? await Task.sleep(for: SharedReplication.pause(afterFailures: attempt))
            }
            attempt += 1
            do throws(SharedLogError) {
                return try await log.commit(group, retry: attempt > 1, placingAfter: after, origin: origin)
            } catch {
                last = error
                if case .outcomeUnknown(let why) = error { unknown = why }
                if case .failed = error { break }
                if case .incompatible = error { break }
                if case .storageFull(let why) = error {
                    let bytes = group.joined().reduce(0) { $0 + $1.record.count }
                    let path = "\(log.name) (the shared log's server)"
                    return SharedLogCommit(
                        results: group.map { _ in .failure(.storageFull(path: path, needed: bytes, free: nil, cause: why)) }, placed: nil)
                }
            }
        }
        let detail: String
        switch (unknown, last) {
        case (let why?, let last):
            let then = last.map { if case .outcomeUnknown = $0 { "" } else { "; then \($0)" } } ?? ""
            detail = "\(log.name): the commit's outcome is unknown after \(attempt) attempts (\(why)\(then)); "
                + "the events may be stored: read the job before appending again"
        case (nil, let error?): detail = "\(log.name): \(error)"
        case (nil, nil): detail = "\(log.name): closed"
        }
        return SharedLogCommit(results: group.map { _ in .failure(.sharedLog(detail)) }, placed: nil)
    }
}

/// An append waiting for its events to be applied to this node's replica.
final class AppendWaiter: Sendable {
    let jobs: Set<ExactID>
    private let slots: Mutex<(events: [RecordedEvent?], missing: Int, ids: [EventID])>
    let done = OneShot<Result<AppendOutcome, JournalError>>()

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
