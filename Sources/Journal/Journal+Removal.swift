import LMDB
import Lifecycle
import Synchronization

/// Removing records in place, beside the writers (docs/operations.md, "Retention without
/// downtime"): bounded write transactions that take their turns in the writer's queue between
/// appends (and, from another process, with LMDB's writer lock between that process's appends).
extension Journal {
    /// What an in-place removal did.
    package struct RemovalReport: Sendable {
        /// Records removed now (records already gone are not counted).
        package var removed: Int
        /// Write transactions it took.
        package var steps: Int
    }

    /// Removes the records at `seqs` (their index entries and ids with them), `step` at a time, each
    /// step one write transaction through the writer (whole or absent after a crash). A seq already
    /// gone is skipped, so a removal killed part way is finished by running it again. Nothing is
    /// renumbered, the last assigned seq stays recorded, and freed pages are reused by later writes
    /// (the file does not shrink: that is the offline `compact`). Refused on a shared log's replica.
    package func removeRecords(
        _ seqs: [UInt64], step: Int = 1_000, progress: @Sendable (Int) -> Void = { _ in }
    ) async throws(JournalError) -> RemovalReport {
        if let sharedLog = try sharedLogFollowed() {
            throw .replica(path: path, sharedLog: sharedLog, refused: "removing events (archive, compact --drop-superseded-heartbeats)")
        }
        var report = RemovalReport(removed: 0, steps: 0)
        var start = 0
        let size = max(1, step)
        while start < seqs.count {
            let chunk = Array(seqs[start..<min(start + size, seqs.count)])
            let removed = try await removalStep { txn in try self.removeStep(txn, chunk) }
            report.removed += removed
            report.steps += 1
            start += chunk.count
            progress(start)
        }
        return report
    }

    /// One removal step: a write transaction through the writer's queue, committed with one
    /// fdatasync (a step a system crash undoes is redone by the next run); answers what `body`
    /// returned.
    func removalStep<T: Sendable>(_ body: @escaping @Sendable (borrowing Transaction) throws -> T) async throws(JournalError) -> T {
        let box = Mutex<T?>(nil)
        let result: Result<Void, JournalError> = await withCheckedContinuation { continuation in
            // A step retried after map growth runs again and overwrites its result.
            submit(.write({ txn in let r = try body(txn); box.withLock { $0 = r } }, metaSync: false, { continuation.resume(returning: $0) }))
        }
        try result.get()
        return box.withLock { $0! }
    }

    /// Removes what is left of `seqs` in `txn`; returns how many records it removed.
    func removeStep(_ txn: borrowing Transaction, _ seqs: [UInt64]) throws -> Int {
        if let sharedLog = try replicaMarker(txn) {
            throw JournalError.replica(path: path, sharedLog: sharedLog, refused: "removing events")
        }
        var removed = 0
        for seq in seqs {
            // Copied out of the map before anything is deleted: the deletes may move the page.
            let found: (job: [UInt8], version: UInt64, id: EventID?)? = try StorageKeys.withSeqKey(seq) { key in
                guard let bytes = try txn.get(log, key: key) else { return nil }
                let view = try RecordFormat.view(seq: seq, bytes: bytes)
                return ([UInt8](view.job), view.version, view.id)
            }
            guard let found else { continue }
            _ = try found.job.withUnsafeBytes { job in
                try StorageKeys.IndexEntry(version: found.version, seq: seq).withBytes { value in try txn.delete(jobs, key: job, value: value) }
            }
            if let id = found.id, let ids { _ = try StorageKeys.withIDKey(id) { key in try txn.delete(ids, key: key) } }
            _ = try StorageKeys.withSeqKey(seq) { key in try txn.delete(log, key: key) }
            removed += 1
        }
        return removed
    }
}
