import ConcurrencyKit
import Journal
import Lifecycle
import Synchronization

/// Where this node's follower stands, and waiting for it to catch up (a logbook on a shared log,
/// docs/scale-out.md).
extension Logbook {
    /// What this node's follower knows (nil from `maintenance.followerStatus()` on a logbook without a shared log).
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
        /// Groups this node committed to the shared log since it opened (a retry counts once).
        public var commits: Int = 0
        /// Of those, the commits whose answer placed their rows in the follow order, so the follower
        /// applied them without reading (docs/scale-out.md, "Own rows, placed").
        public var placedCommits: Int = 0
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
            shared.wantRead()
        }
        try result.get()
    }
}

extension Logbook.Maintenance {
    /// What this node's follower knows; nil on a logbook without a shared log.
    public func followerStatus() -> Logbook.FollowerStatus? {
        guard let shared = logbook.shared else { return nil }
        var status = shared.status.withLock { $0 }
        status.waitingAppends = shared.waiters.withLock { $0.all.count }
        status.waitingCatchUps = shared.catchUps.withLock { $0.waiting.count }
        status.topology = shared.log.topology
        status.stopped = shared.hasStopped
        return status
    }
}

extension SharedReplication {
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
}
