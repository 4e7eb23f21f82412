import ConcurrencyKit
import Journal
import Lifecycle
import Synchronization

/// The follower: applies every node's events from the shared log to this node's replica, in the
/// shared log's order, and answers this node's appends once their events are applied.
extension Logbook {
    func startFollowing(_ shared: SharedReplication) {
        let follower = Task.detached { [weak self] in
            guard let self else { return }
            await self.follow(shared)
        }
        let notifications = Task.detached {
            for await tx in shared.log.commitNotices(except: shared.origin) { shared.noticed(tx) }
        }
        shared.tasks.withLock { $0 = [follower, notifications] }
    }

    /// What the follower loop carries from one read to the next.
    struct FollowerProgress {
        /// The shared log's place of the last record applied here.
        var cursor: ReplicaCursor?
        /// Failed reads in a row (for the pause before the next).
        var failures = 0
        /// The last event this process applied, and the failovers it has checked: after a change of
        /// primary (and once at start, by position only), the log must still hold the replica's last
        /// event, or the replica holds events the shared log lost (docs/scale-out.md).
        var lastID: EventID?
        var checkedFailovers = -1
        /// The current outage: when it began, and whether it was reported (a catch-up was told, or
        /// the follower warned). Warnings are for a process nobody else reports to (`serve`): one per
        /// outage, once it has lasted `SharedReplication.warnAfter`, so that a command whose catch-up
        /// was about to ask is told the error (and prints it) instead.
        var outage: (since: ContinuousClock.Instant, reported: Bool)?
    }

    /// Reads, checks and applies the shared log until this logbook closes or following stops.
    private func follow(_ shared: SharedReplication) async {
        var progress = FollowerProgress()
        do throws(JournalError) {
            progress.cursor = try journal.replicaCursor()
        } catch {
            shared.stop(failing: error)
            return
        }
        var readNext = true
        while !Task.isCancelled, !shared.isClosed {
            // Rows this node's own commits placed right after the cursor: applied without reading them,
            // while no failover happened since the last read checked one (a read checks that the new
            // primary still holds what this replica applied, before anything more is applied).
            if shared.log.topology.failovers != progress.checkedFailovers {
                shared.forgetPlacements()
            } else {
                while let placed = shared.nextPlacement(after: progress.cursor) {
                    guard await apply(placed, shared, &progress) else { return }
                }
            }
            if !readNext && !shared.takeReadWanted() {
                // Nothing to read for all anyone knows: wait for a notification, a commit of this node,
                // a catch-up, or the poll. An append committed but not placed and not yet readable
                // waits for an earlier transaction to end. That one's commit notifies too (every commit
                // that stores does); one that stored nothing (a refused batch, a rollback) or another
                // client's does not: look again after a short backstop. Another node's commit notified:
                // read after `noticeGrace`, unless this node's next commit begins meanwhile (its answer
                // brings the rows, or asks for the read).
                let busy = !shared.committedUnapplied.withLock { $0.isEmpty }
                if let wait = shared.noticeWait() {
                    // Still unanswered once waited (no commit of this node began meanwhile): read.
                    var rung = false
                    if wait > .zero { rung = await shared.doorbell.wait(timeout: wait) }
                    if !rung { readNext = shared.noticeWait() != nil }
                    continue
                }
                let rung = await shared.doorbell.wait(timeout: busy ? SharedReplication.busyBackstop : options.sharedLogPollInterval)
                readNext = !rung  // a ring says why (placed rows, a notice, a read wanted); the timeout reads
                continue
            }
            readNext = false
            shared.readStarts()
            let generation = shared.catchUps.withLock { c in
                c.readsStarted += 1
                return c.readsStarted
            }
            let rows: [SharedLogRow]
            var held: (failovers: Int, id: EventID?)?
            do throws(SharedLogError) {
                rows = try await shared.log.read(after: progress.cursor, limit: SharedReplication.readLimit)
                // Read after the read: a failover it went through is counted, so its rows are checked.
                let failovers = shared.log.topology.failovers
                if let cursor = progress.cursor, failovers != progress.checkedFailovers {
                    held = (failovers, try await shared.log.eventID(at: cursor))
                } else if progress.cursor == nil {
                    progress.checkedFailovers = failovers  // nothing applied here to check
                }
                progress.failures = 0
            } catch {
                if Task.isCancelled || shared.isClosed { return }
                if case .incompatible(let why) = error {
                    options.warn("cannot follow the shared log \(shared.log.name): \(why); following stopped")
                    shared.stop(failing: .sharedLog("\(shared.log.name): \(why)"))
                    return
                }
                shared.forgetPlacements()
                await readFailed(error, shared, &progress)
                readNext = true
                continue
            }
            if let held {
                guard stillHoldsTheLastApplied(held, shared, progress) else { return }
                progress.checkedFailovers = held.failovers
            }
            progress.outage = nil
            shared.status.withLock { s in
                s.reachable = true
                s.lastError = nil
            }
            guard await apply(rows, shared, &progress) else { return }
            // A full batch: more is there. Otherwise what commits later is told by its notice (or its
            // own commit's answer here, or the backstop): reading until a read finds nothing kept a
            // follower reading after every commit of the others while they were busy.
            readNext = rows.count == SharedReplication.readLimit
            if rows.count < SharedReplication.readLimit { shared.answerCatchUps(before: generation, .success(())) }
        }
    }

    /// A read failed: every waiting catch-up is told (it cannot succeed now, even one asked during
    /// this read), the outage is warned about once if nobody was told, and the follower pauses.
    private func readFailed(_ error: SharedLogError, _ shared: SharedReplication, _ progress: inout FollowerProgress) async {
        let told = shared.answerCatchUps(before: .max, .failure(.sharedLog("\(shared.log.name): \(error)")))
        progress.failures += 1
        var current = progress.outage ?? (ContinuousClock.now, false)
        if told > 0 { current.reported = true }
        if !current.reported && ContinuousClock.now - current.since >= SharedReplication.warnAfter {
            options.warn("cannot read the shared log \(shared.log.name): \(error); retrying")
            current.reported = true
        }
        progress.outage = current
        shared.status.withLock { s in
            s.reachable = false
            s.lastError = "\(error)"
        }
        await shared.doorbell.wait(timeout: SharedReplication.pause(afterFailures: progress.failures))
    }

    /// Whether the shared log still holds the last event applied here (`held.id`, read at the
    /// cursor after a failover); if not, following stops for good and false is returned.
    private func stillHoldsTheLastApplied(
        _ held: (failovers: Int, id: EventID?), _ shared: SharedReplication, _ progress: FollowerProgress
    ) -> Bool {
        guard let cursor = progress.cursor else { return true }
        if held.id != nil, progress.lastID == nil || held.id == progress.lastID { return true }
        let failover = shared.log.topology.lastFailover.map { " (failover from \($0.from) to \($0.to))" } ?? ""
        let detail =
            "\(shared.log.name) no longer holds the last event this replica applied (tx \(cursor.tx), position "
                + "\(cursor.position)\(progress.lastID.map { ", event \($0)" } ?? ""))\(failover): its primary failed over without events "
                + "it had committed (asynchronous replication?). Following stopped and appends here are refused: "
                + "find what was lost by comparing this replica's export with a new replica's, then replace this one"
        options.warn(detail)
        shared.stop(failing: .sharedLog(detail))
        return false
    }

    /// Applies `rows` to the replica with their cursor and folds them; false when following stopped.
    private func apply(_ rows: [SharedLogRow], _ shared: SharedReplication, _ progress: inout FollowerProgress) async -> Bool {
        guard let last = rows.last else { return true }
        do throws(JournalError) {
            let records = rows.map { Journal.ReplicatedRecord(cursor: $0.cursor, version: $0.version, record: $0.record) }
            let applied = try await journal.applyReplicated(records, from: shared.log.name)
            (progress.cursor, progress.lastID) = (last.cursor, last.id)
            fold(rows, applied, shared)
            return true
        } catch {
            if case .closed = error { return false }
            options.warn("cannot apply the shared log \(shared.log.name) to this replica: \(error); following stopped")
            shared.stop(failing: error)
            return false
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
                guard let waiting = shared.waiters.withLock({ $0.waiting(for: row.id) }) else { continue }
                let job = row.record.withUnsafeBytes { try? Journal.decodeRecord(seq: 0, bytes: $0, strict: false) }?.event.job
                let stored = job.flatMap { job in try? journal.events(ofJob: job).first { $0.version == row.version } }
                guard let stored else { continue }
                for (waiter, index) in [waiting.first] + (waiting.more ?? []) where waiter.set(index, stored) { finish(waiter, shared) }
            }
        }
        var start = 0
        for (i, event) in applied.enumerated() {
            guard let waiting = shared.waiters.withLock({ $0.waiting(for: rows[skipped + i].id) }) else { continue }
            var complete = waiting.first.waiter.set(waiting.first.index, event) ? [waiting.first.waiter] : []
            for (waiter, index) in waiting.more ?? [] where waiter.set(index, event) { complete.append(waiter) }
            guard !complete.isEmpty else { continue }
            absorb(Array(applied[start...i]))
            start = i + 1
            for waiter in complete { finish(waiter, shared) }
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
        shared.unregister(waiter)
        shared.committedUnapplied.withLock { _ = $0.remove(ObjectIdentifier(waiter)) }
        let states = projections.withLock { p in
            Dictionary(uniqueKeysWithValues: waiter.jobs.compactMap { job in p.state(of: job.string).map { (job, $0) } })
        }
        waiter.done.fulfil(.success(AppendOutcome(events: events, states: states)))
    }
}

extension SharedReplication {
    /// How long an outage nobody was told about lasts before the follower warns about it.
    static let warnAfter: Duration = .seconds(1)
    /// How long the follower waits for a notification, with this node's commits not yet readable,
    /// before it reads again anyway.
    static let busyBackstop: Duration = .milliseconds(10)
}
