import ConcurrencyKit
import Journal
import Lifecycle

extension Logbook {
    /// Loads the newest snapshot and folds the tail after it; falls back to a full replay (with a
    /// warning) when the snapshot is missing, damaged, of another format or ahead of the log.
    ///
    /// Also answers the removal generation the projections absorbed (read before the log, so a job
    /// removed meanwhile is folded again later, never missed).
    static func rebuild(_ journal: Journal, warn: (String) -> Void) throws(JournalError) -> (Projections, UInt64, OpenReport) {
        var generation = try journal.removalGeneration()
        var rejected: String?
        var projections = Projections()
        var snapshotSeq: UInt64?
        if let (seq, bytes) = try journal.latestSnapshot() {
            do {
                let loaded = try SnapshotCodec.decode(bytes)
                let last = try journal.lastSeq()
                if loaded.coveredSeq != seq {
                    rejected = "snapshot key \(seq) disagrees with its content (\(loaded.coveredSeq))"
                } else if seq > last {
                    rejected = "snapshot covers seq \(seq) but the log ends at \(last)"
                } else {
                    projections = loaded
                    snapshotSeq = seq
                }
            } catch {
                rejected = "\(error)"
            }
            if let rejected { warn("\(rejected); rebuilding the projections from the full log (slower, never wrong)") }
        }
        var folded = 0
        if snapshotSeq != nil {
            // Jobs removed in place after the snapshot was written are still in it.
            let removed = try journal.jobsRemoved(after: try journal.snapshotRemovalGeneration())
            generation = max(generation, removed.generation)
            for job in Set(removed.jobs.map { ExactID($0) }) {
                projections.refold(job.string, from: try journal.events(ofJob: job.string, throughSeq: projections.coveredSeq))
            }
            // A tail: fold it in event by event, keeping the indexes current.
            try journal.scanViews(from: projections.coveredSeq + 1) { event in
                projections.apply(event)
                folded += 1
                return true
            }
        } else {
            // A full replay: fold the states alone, in look-ahead batches, then build the indexes
            // once. With a second core the log is read on another thread while this one folds.
            var replay = Projections.Replay()
            let fold = { (events: UnsafeBufferPointer<EventView>) -> Bool in
                replay.fold(batch: events)
                folded += events.count
                return true
            }
            if Threads.hasSecondCore {
                try journal.scanViewBatchesReadingAhead(fold)
            } else {
                try journal.scanViewBatches(fold)
            }
            projections = replay.finish()
        }
        return (
            projections, generation,
            OpenReport(snapshotSeq: snapshotSeq, eventsFolded: folded, snapshotRejected: rejected, milliseconds: 0)
        )
    }

    /// Writes a snapshot of the projections now and returns the seq it covers.
    ///
    /// The projections are copied under the lock in O(1) (copy-on-write) and encoded outside it; the
    /// write is one short transaction on the writer thread between group commits.
    @discardableResult
    public func snapshot() async throws(JournalError) -> UInt64 {
        guard !options.readOnly else { throw .readOnly }
        let (copy, generation) = projections.withLock { ($0, removalsAbsorbed.load(ordering: .relaxed)) }
        let bytes = SnapshotCodec.encode(copy)
        try await journal.storeSnapshot(seq: copy.coveredSeq, bytes: bytes, removalGeneration: generation)
        return copy.coveredSeq
    }

    func startAutomaticSnapshot() {
        Task.detached { [weak self] in
            guard let self else { return }
            do {
                try await self.snapshot()
            } catch {
                self.options.warn("automatic snapshot failed: \(error)")
            }
            self.autoSnapshot.withLock { $0.inProgress = false }
        }
    }
}

/// Counts events since the last automatic snapshot.
struct AutoSnapshotState: Sendable {
    var sinceLast = 0
    var inProgress = false

    /// Adds `n` events; true when a snapshot is due and none is running (it is then marked running).
    mutating func count(_ n: Int, every: Int?) -> Bool {
        sinceLast += n
        guard let every, sinceLast >= every, !inProgress else { return false }
        sinceLast = 0
        inProgress = true
        return true
    }
}
