import LMDB
import Lifecycle
import Synchronization

/// Removing whole jobs in place, beside the writers (an online `archive`; docs/operations.md,
/// "Retention without downtime").
///
/// Unlike a superseded heartbeat, a removed job changes what is derived from the log: the
/// projections of every process with the journal open, the stored snapshot, and the writer's cache
/// of job versions. So every step that removes jobs also records their ids under the next *removal
/// generation* (the `removals` table, the generation in `meta`), in the same transaction:
///
/// - the writer reads the generation in each group's transaction and drops its version cache when
///   it moved, so a job created again after its removal starts at version 1, as after an offline
///   archive;
/// - a process folding the log (`Logbook`) reads the jobs removed since the generation it has
///   absorbed and folds each of them again from what the log holds now, before it folds later
///   events (its own appends) and every tick it looks for other processes' appends;
/// - a stored snapshot names the generation its projections had absorbed; whoever loads it folds
///   again the jobs removed since.
extension Journal {
    /// A job an archive plans to remove: its id and its last index entry when planned. The job is
    /// removed only if that entry is still its last (a later event makes it a different job).
    package struct PlannedJob: Sendable, Equatable {
        package var job: String
        package var lastVersion: UInt64
        package var lastSeq: UInt64
        /// Its records when planned (for sizing steps).
        package var records: Int
        package init(job: String, lastVersion: UInt64, lastSeq: UInt64, records: Int) {
            (self.job, self.lastVersion, self.lastSeq, self.records) = (job, lastVersion, lastSeq, records)
        }
    }

    /// What an in-place removal of jobs did.
    package struct JobRemovalReport: Sendable {
        /// Jobs removed now, and their records.
        package var removed: [String] = []
        package var records = 0
        /// Jobs that gained an event after they were planned: kept whole.
        package var changed: [String] = []
        /// Jobs whose planned records were gone already (an earlier, killed run removed them).
        package var alreadyRemoved: [String] = []
        package var steps = 0
        package init() {}
    }

    /// Removes each of `planned` whole (its records, index entries and ids), jobs grouped into write
    /// transactions of about `step` records (a job bigger than that gets one of its own), each
    /// through the writer's queue between appends, whole or absent after a crash. Refused on a
    /// shared log's replica. `afterStep` hears each step's report once it committed.
    package func removeJobs(
        _ planned: [PlannedJob], step: Int = 1_000, afterStep: @Sendable (JobRemovalReport) -> Void = { _ in }
    ) async throws(JournalError) -> JobRemovalReport {
        if let sharedLog = try sharedLogFollowed() {
            throw .replica(path: path, sharedLog: sharedLog, refused: "removing events (archive)")
        }
        var total = JobRemovalReport()
        var start = 0
        while start < planned.count {
            var end = start
            var records = 0
            while end < planned.count, end == start || records + planned[end].records <= max(1, step) {
                records += planned[end].records
                end += 1
            }
            let chunk = Array(planned[start..<end])
            let report = try await removalStep { txn in try self.removeJobsStep(txn, chunk) }
            afterStep(report)
            total.removed += report.removed
            total.records += report.records
            total.changed += report.changed
            total.alreadyRemoved += report.alreadyRemoved
            total.steps += 1
            start = end
        }
        return total
    }

    func removeJobsStep(_ txn: borrowing Transaction, _ planned: [PlannedJob]) throws -> JobRemovalReport {
        if let sharedLog = try replicaMarker(txn) {
            throw JournalError.replica(path: path, sharedLog: sharedLog, refused: "removing events (archive)")
        }
        guard let removals, let ids else { throw JournalError.readOnly }
        var report = JobRemovalReport()
        for p in planned {
            var job = p.job
            let entries: [StorageKeys.IndexEntry] = try job.withUTF8 { key in
                try txn.withCursor(jobs) { index in
                    var all: [StorageKeys.IndexEntry] = []
                    var entry = try index.get(.set, key: UnsafeRawBufferPointer(key)).flatMap { _ in try index.get(.firstDup) }
                    while let (_, value) = entry {
                        guard let e = StorageKeys.IndexEntry(value) else {
                            throw JournalError.corruptIndex(job: p.job, detail: "bad entry size")
                        }
                        all.append(e)
                        entry = try index.get(.nextDup)
                    }
                    return all
                }
            }
            guard entries.last == StorageKeys.IndexEntry(version: p.lastVersion, seq: p.lastSeq) else {
                // Events at or before the planned last one still there: the job gained an event since.
                // None: an earlier run removed it (and it may have been created again since).
                if entries.contains(where: { $0.seq <= p.lastSeq }) {
                    report.changed.append(p.job)
                } else {
                    report.alreadyRemoved.append(p.job)
                }
                continue
            }
            for e in entries {
                try StorageKeys.withSeqKey(e.seq) { key in
                    guard let bytes = try txn.get(log, key: key) else {
                        throw JournalError.corruptIndex(job: p.job, detail: "seq \(e.seq) is not in the log")
                    }
                    try Journal.deleteID(of: bytes, seq: e.seq, txn, ids: ids)
                    _ = try txn.delete(log, key: key)
                }
            }
            _ = try job.withUTF8 { key in try txn.delete(jobs, key: UnsafeRawBufferPointer(key)) }
            report.removed.append(p.job)
            report.records += entries.count
        }
        guard !report.removed.isEmpty else { return report }
        let generation = (try readMetaU64(txn, StorageKeys.metaRemovalGeneration) ?? 0) + 1
        var value: [UInt8] = []
        for job in report.removed {
            withUnsafeBytes(of: UInt32(job.utf8.count).littleEndian) { value.append(contentsOf: $0) }
            value.append(contentsOf: job.utf8)
        }
        try StorageKeys.withSeqKey(generation) { key in
            try value.withUnsafeBytes { v in try txn.put(removals, key: key, value: v) }
        }
        try putMeta(txn, StorageKeys.metaRemovalGeneration, u64: generation, width: 8)
        return report
    }

    /// The removal generation as stored now (0 before any job was removed in place).
    package func removalGeneration() throws(JournalError) -> UInt64 {
        do { return try env.read { txn in try readMetaU64(txn, StorageKeys.metaRemovalGeneration) ?? 0 } } catch {
            throw Journal.wrap(error)
        }
    }

    /// The generation the writer's last group commit found (no read: for the writer thread's
    /// observers, which fold the jobs removed since before they fold that group).
    package var removalGenerationAtLastCommit: UInt64 { removalGenerationSeen.load(ordering: .acquiring) }

    /// The jobs removed in place after generation `after`, and the generation they bring it to
    /// (`after` itself when there are none). A job may be named more than once.
    package func jobsRemoved(after: UInt64) throws(JournalError) -> (generation: UInt64, jobs: [String]) {
        do {
            return try env.read { txn in
                let current = try readMetaU64(txn, StorageKeys.metaRemovalGeneration) ?? 0
                guard current > after else { return (after, []) }
                // The records before `current` may have been cleared by an offline compaction: then the
                // caller's projections were rebuilt since, or it is told every job must be folded again.
                guard let removals else { return (current, []) }
                var jobs: [String] = []
                try txn.withCursor(removals) { c in
                    var next = try StorageKeys.withSeqKey(after + 1) { key in try c.get(.setRange, key: key) }
                    while let (k, v) = next, let g = StorageKeys.seq(fromKey: k), g <= current {
                        var offset = 0
                        while offset + 4 <= v.count {
                            let length = Int(UInt32(littleEndian: v.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
                            guard offset + 4 + length <= v.count else {
                                throw JournalError.notAJournal(path: path, detail: "bad removals record \(g)")
                            }
                            jobs.append(String(decoding: UnsafeRawBufferPointer(rebasing: v[(offset + 4)..<(offset + 4 + length)]), as: UTF8.self))
                            offset += 4 + length
                        }
                        next = try c.get(.next)
                    }
                }
                return (current, jobs)
            }
        } catch { throw Journal.wrap(error) }
    }

    /// An online archive between writing its bundle and removing the jobs: the bundle and the
    /// jobs planned, recorded before the bundle is written and cleared once the jobs are removed, so
    /// a run killed in between is finished by the next one (never written to a second bundle).
    package struct PendingArchive: Sendable, Equatable {
        package var bundle: String
        package var jobs: [PlannedJob]
        package init(bundle: String, jobs: [PlannedJob]) { (self.bundle, self.jobs) = (bundle, jobs) }

        /// path length (u32 LE), path, then per job: version, seq (u64 LE), records, id length (u32 LE), id.
        var bytes: [UInt8] {
            var out: [UInt8] = []
            func put<T: FixedWidthInteger>(_ v: T) { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
            put(UInt32(bundle.utf8.count))
            out.append(contentsOf: bundle.utf8)
            for j in jobs {
                put(j.lastVersion)
                put(j.lastSeq)
                put(UInt32(clamping: j.records))
                put(UInt32(j.job.utf8.count))
                out.append(contentsOf: j.job.utf8)
            }
            return out
        }

        init?(_ raw: UnsafeRawBufferPointer) {
            var offset = 0
            func take<T: FixedWidthInteger>(_: T.Type) -> T? {
                guard offset + MemoryLayout<T>.size <= raw.count else { return nil }
                defer { offset += MemoryLayout<T>.size }
                return T(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: T.self))
            }
            func text() -> String? {
                guard let n = take(UInt32.self), offset + Int(n) <= raw.count else { return nil }
                defer { offset += Int(n) }
                return String(decoding: UnsafeRawBufferPointer(rebasing: raw[offset..<(offset + Int(n))]), as: UTF8.self)
            }
            guard let bundle = text() else { return nil }
            var jobs: [PlannedJob] = []
            while offset < raw.count {
                guard let version = take(UInt64.self), let seq = take(UInt64.self), let records = take(UInt32.self),
                    let job = text()
                else { return nil }
                jobs.append(PlannedJob(job: job, lastVersion: version, lastSeq: seq, records: Int(records)))
            }
            self.init(bundle: bundle, jobs: jobs)
        }
    }

    /// The online archive that is running or was killed, if any.
    package func pendingArchive() throws(JournalError) -> PendingArchive? {
        do {
            return try env.read { txn in
                try StorageKeys.metaPendingArchive.utf8CString.withUnsafeBytes { key -> PendingArchive? in
                    guard let raw = try txn.get(meta, key: UnsafeRawBufferPointer(rebasing: key.dropLast())) else { return nil }
                    guard let pending = PendingArchive(raw) else {
                        throw JournalError.notAJournal(path: path, detail: "bad \(StorageKeys.metaPendingArchive) record")
                    }
                    return pending
                }
            }
        } catch { throw Journal.wrap(error) }
    }

    /// Records (or with nil clears) the online archive about to run, durably, through the writer.
    package func setPendingArchive(_ pending: PendingArchive?) async throws(JournalError) {
        let result: Result<Void, JournalError> = await withCheckedContinuation { continuation in
            submit(.write({ txn in
                if let pending {
                    try self.putMetaBytes(txn, StorageKeys.metaPendingArchive, pending.bytes)
                } else {
                    _ = try StorageKeys.metaPendingArchive.utf8CString.withUnsafeBytes { key in
                        try txn.delete(self.meta, key: UnsafeRawBufferPointer(rebasing: key.dropLast()))
                    }
                }
            }, { continuation.resume(returning: $0) }))
        }
        try result.get()
    }

    /// Claims the journal's online archive for this process (one at a time across processes and
    /// within one); `release` gives the claim up.
    package func claimArchive() throws(JournalError) -> ArchiveClaim {
        let taken = archiving.withLock { busy -> Bool in
            if busy { return false }
            busy = true
            return true
        }
        guard taken else { throw .maintenanceRunning(path: path) }
        do { try owners.claimMaintenance(journalPath: path) } catch {
            archiving.withLock { $0 = false }
            throw error
        }
        return ArchiveClaim(journal: self)
    }

    package struct ArchiveClaim: Sendable {
        let journal: Journal
        package func release() {
            journal.owners.releaseMaintenance()
            journal.archiving.withLock { $0 = false }
        }
    }

    /// The removal generation the stored snapshot's projections had absorbed (0 when not recorded).
    package func snapshotRemovalGeneration() throws(JournalError) -> UInt64 {
        do { return try env.read { txn in try readMetaU64(txn, StorageKeys.metaSnapshotRemovals) ?? 0 } } catch {
            throw Journal.wrap(error)
        }
    }
}
