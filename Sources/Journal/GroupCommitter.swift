import ConcurrencyKit
import LMDB
import Lifecycle
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The journal's single writer: a dedicated thread that drains every pending request into one
/// write transaction and one fsync, then answers each caller in seq order.
///
/// Invariants: a caller is answered only after the commit that holds its events returned (so with
/// `.durable` its events are on disk); a batch that conflicts is answered with its conflict and
/// never affects the other batches of the group; an LMDB failure fails every batch of the group
/// and stores nothing of it. A write that fails at the device (`JournalError.writeFailed`) stops
/// the writer: every later request is refused with `writesStopped` until the journal is reopened
/// (docs/architecture.md, "A failing disk").
final class GroupCommitter: @unchecked Sendable {
    enum Request: Sendable {
        /// A batch, with an optional report of how many of its events are written so far (called on
        /// the writer thread, inside the transaction, before the commit).
        case append(
            [AppendItem], progress: (@Sendable (Int) -> Void)? = nil, @Sendable (Result<AppendedBatch, JournalError>) -> Void)
        /// Arbitrary work in its own write transaction (snapshots, maintenance). `metaSync: false`:
        /// committed with one fdatasync, not two (`Environment.write(metaSync:)`), for work that is
        /// redone when a system crash loses it (in-place removal steps).
        case write(
            @Sendable (borrowing Transaction) throws -> Void, metaSync: Bool = true, @Sendable (Result<Void, JournalError>) -> Void)

        func fail(_ error: JournalError) {
            switch self {
            case .append(_, _, let completion): completion(.failure(error))
            case .write(_, _, let completion): completion(.failure(error))
            }
        }

        var eventCount: Int {
            if case .append(let items, _, _) = self { return items.count }
            return 0
        }
    }

    private let journal: Journal
    private let condition = ConditionLock()
    private var queue: [Request] = []
    private var stopping = false
    /// The device failure that stopped the writer, if one did (guarded by `condition`).
    private var failure: JournalError?
    private var finished = false
    private var thread = pthread_t()
    /// Touched only by the writer thread.
    private var versionCache = VersionCache()

    /// Commits and events committed so far (events per commit = group size), for metrics and the benchmark.
    let commits = Atomic<Int>(0)
    let eventsCommitted = Atomic<Int>(0)

    /// Starts the writer thread (which holds the committer until it ends).
    init(journal: Journal) throws(Syscalls.Errno) {
        self.journal = journal
        do {
            thread = try Threads.start { [self] in run() }
        } catch {
            throw Syscalls.Errno(code: error.code)
        }
    }

    func submit(_ request: Request) {
        let refusal = condition.withLock { () -> JournalError? in
            if let failure { return stopped(by: failure) }
            guard !stopping else { return .closed }
            queue.append(request)
            return nil
        }
        if let refusal { request.fail(refusal) } else { condition.broadcast() }
    }

    /// The write failure that stopped the writer, nil while it writes.
    var stoppedBy: JournalError? { condition.withLock { failure } }

    private func stopped(by failure: JournalError) -> JournalError {
        guard case .writeFailed(let path, let cause, _) = failure else { return failure }
        return .writesStopped(path: path, cause: cause)
    }

    /// After a write failed at the device: refuses what is queued and everything submitted later.
    /// A failed fsync is never retried: the kernel may have dropped the pages it could not write
    /// and report the next fsync as a success.
    private func stop(after failure: JournalError) {
        let refused = condition.withLock { () -> [Request] in
            self.failure = self.failure ?? failure
            defer { queue.removeAll() }
            return queue
        }
        for request in refused { request.fail(stopped(by: failure)) }
    }

    /// The failure `error` is reported as, stopping the writer when the device failed.
    private func failed(_ error: any Error, needing bytes: Int) -> JournalError {
        let failure = journal.explainWriteFailure(Journal.wrap(error), needing: bytes)
        if case .writeFailed = failure { stop(after: failure) }
        return failure
    }

    /// Drains what is queued, then stops the thread and waits for it.
    func shutdown() {
        condition.withLock { stopping = true }
        condition.broadcast()
        Threads.join(thread)
    }

    private func run() {
        let limit = journal.options.maxEventsPerCommit
        var lastGroup = 1
        while true {
            awaitCompanions(expecting: lastGroup)
            let group: [Request] = condition.withLock {
                while queue.isEmpty && !stopping { condition.wait() }
                return queue.removeGroup(upTo: limit, weight: \.eventCount)
            }
            if group.isEmpty { return }  // stopping and drained
            lastGroup = group.count
            process(group)
        }
    }

    /// When the last group had several callers, they are likely about to append again: give them a
    /// moment so they share the next commit instead of each paying for one. The wait ends as soon
    /// as the queue holds as many requests as the last group (each arrival wakes the writer; there
    /// is no polling), and lasts at most `companionWindow`: a fraction of what a commit has been
    /// costing, so waiting never costs more than it can save. A lone caller never waits.
    private func awaitCompanions(expecting previous: Int) {
        guard previous > 1 else { return }
        let window = GroupCommitter.companionWindow(
            commitNanoseconds: commitCostNanoseconds, maxDelayMicroseconds: journal.options.maxGroupDelayMicroseconds)
        guard window > 0 else { return }
        let deadline = ConditionLock.Deadline.after(nanoseconds: window)
        condition.withLock {
            while queue.count < previous && !stopping {
                if !condition.wait(until: deadline) { return }
            }
        }
    }

    /// How long the writer waits for the last group's callers to come back: half the recent cost of
    /// a commit (a durable commit pays an fsync of a millisecond or more, so companions are worth
    /// waiting for; a commit without fsync costs microseconds, so the wait shrinks with it), capped
    /// by `maxDelayMicroseconds`. Nanoseconds.
    static func companionWindow(commitNanoseconds: UInt64, maxDelayMicroseconds: Int) -> UInt64 {
        min(commitNanoseconds / 2, UInt64(max(0, maxDelayMicroseconds)) * 1_000)
    }

    /// A moving average (weight 1/8) of the time one group's write transaction takes, fsync included.
    private var commitCostNanoseconds: UInt64 = 0

    private func recordCommitCost(_ nanoseconds: UInt64) {
        commitCostNanoseconds = commitCostNanoseconds == 0 ? nanoseconds : (commitCostNanoseconds * 7 + nanoseconds) / 8
    }

    private func process(_ group: [Request]) {
        var appends: [([AppendItem], @Sendable (Result<AppendedBatch, JournalError>) -> Void)] = []
        var progress: [(@Sendable (Int) -> Void)?] = []
        for request in group {
            switch request {
            case .append(let items, let report, let completion):
                appends.append((items, completion))
                progress.append(report)
            case .write(let body, let metaSync, let completion):
                if let failure = stoppedBy {
                    completion(.failure(stopped(by: failure)))
                    continue
                }
                do {
                    try journal.env.write(metaSync: metaSync) { txn in try body(txn) }
                    completion(.success(()))
                } catch {
                    completion(.failure(failed(error, needing: 0)))
                }
            }
        }
        guard !appends.isEmpty else { return }
        if let failure = stoppedBy {
            for (_, completion) in appends { completion(.failure(stopped(by: failure))) }
            return
        }
        let now = journal.options.clock()
        let results: [Result<AppendedBatch, JournalError>]
        do {
            // Moved out and back, never copied: the cache is mutated in place (copy-on-write would
            // copy every job's entry per commit).
            var cache = versionCache
            versionCache = VersionCache()
            defer { versionCache = cache }
            let batches = appends.map(\.0)
            let started = ContinuousClock.now
            let write = try journal.env.write { txn in try journal.writeGroup(txn, batches, progress: progress, now: now, cache: &cache) }
            let cost = (ContinuousClock.now - started).components
            recordCommitCost(UInt64(cost.seconds) * 1_000_000_000 + UInt64(cost.attoseconds / 1_000_000_000))
            cache.lastSeq = write.lastSeq  // trusted again only after the commit
            results = write.results
        } catch {
            let bytes = appends.reduce(0) { n, a in n + a.0.reduce(0) { $0 + RecordFormat.encodedSize($1.event) } }
            let failure = failed(error, needing: bytes)
            for (_, completion) in appends { completion(.failure(failure)) }
            return
        }
        commits.add(1, ordering: .relaxed)
        // Batch by batch in seq order: observers see a batch, then its caller is answered, so a
        // caller reading derived state (projections) sees exactly its own batch applied, no later one.
        let observers = journal.commitObservers.withLock { $0 }
        // A replayed batch stored nothing: the observers saw its events when they were stored.
        let committed = results.reduce(0) { n, r in n + ((try? r.get()).map { $0.replayed ? 0 : $0.events.count } ?? 0) }
        if committed > 0 { for observer in journal.groupObservers.withLock({ $0 }) { observer(committed) } }
        for (i, (_, completion)) in appends.enumerated() {
            if case .success(let batch) = results[i], !batch.replayed {
                eventsCommitted.add(batch.events.count, ordering: .relaxed)
                for observer in observers { observer(batch.events) }
            }
            completion(results[i])
        }
    }
}
