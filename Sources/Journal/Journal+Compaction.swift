import LMDB
import Lifecycle

#if canImport(Glibc)
import Glibc
#endif

/// What a compaction did (or, with `dryRun`, would do).
public struct CompactionReport: Sendable {
    public var bytesBefore: Int
    public var bytesAfter: Int
    public var dropped: Int
    public var dryRun: Bool
    /// How many records each job lost, most first (jobs that lost none are absent).
    public var droppedByJob: [(job: String, records: Int)] = []
}

extension Journal {
    /// What a compaction should do besides rewriting the file compactly.
    package struct CompactionPlan: Sendable {
        /// Seqs of records to drop (the per-job index entries go with them). Nothing is renumbered.
        package var drop: [UInt64] = []
        /// A snapshot to store in the compacted journal (seq covered, bytes).
        package var snapshot: (seq: UInt64, bytes: [UInt8])?
        /// Nothing to do: leave the journal as it is (no rewrite at all).
        package var leaveUnchanged = false
        package init(drop: [UInt64] = [], snapshot: (seq: UInt64, bytes: [UInt8])? = nil, leaveUnchanged: Bool = false) {
            self.drop = drop
            self.snapshot = snapshot
            self.leaveUnchanged = leaveUnchanged
        }
    }

    /// How long compaction keeps asking for the journal alone before refusing with `inUse`, and an
    /// opener for its shared lock before refusing with `busy`: a lock's holder that has let go may
    /// still hold it for a moment through a child forked meanwhile (see `OwnersLock`).
    static let lockWaitMilliseconds = 1_000

    /// Rewrites the journal at `path` compactly, dropping the records `plan` names, and swaps it in
    /// atomically. Needs the journal alone: refuses with `inUse` while another process has it open
    /// (after waiting up to a second for one that is letting go).
    ///
    /// Crash safety: the new file is built beside the old one (`<path>.compacting`), fsynced, then
    /// renamed over it, and the directory fsynced. A kill at any moment leaves the old journal or the
    /// new one, never a mix; a leftover temporary file is removed by the next compaction.
    ///
    /// The file keeps what an operator set: its owner, group and mode are copied to the new file
    /// before the swap. A symbolic link is resolved first and its target compacted (so the link
    /// stays a link, and the target's other openers are seen).
    package static func compact(
        at givenPath: String, dryRun: Bool = false, plan: (Journal) throws -> CompactionPlan
    ) throws -> CompactionReport {
        guard Syscalls.exists(givenPath), let path = Syscalls.resolved(givenPath) else {
            throw JournalError.notFound(path: givenPath)
        }
        let original: stat
        do { original = try Syscalls.status(path) } catch { throw JournalError.io(path: path, error) }
        let exclusive = try OwnersLock(journalPath: path, exclusive: true, waitMilliseconds: Journal.lockWaitMilliseconds)
        defer { exclusive.release() }
        let stage1 = path + ".compacting-1"
        let stage2 = path + ".compacting"
        for leftover in [stage1, stage2, stage1 + "-lock", stage2 + "-lock"] { Syscalls.removeIfPresent(leftover) }

        let (thePlan, before) = try copyFailure(at: path, copy: stage1, swapped: false) {
            try planAndCopy(at: path, owners: exclusive, to: stage1, plan: plan)
        }
        if thePlan.leaveUnchanged { return CompactionReport(bytesBefore: before, bytesAfter: before, dropped: 0, dryRun: dryRun) }
        defer { for f in [stage1, stage2, stage1 + "-lock", stage2 + "-lock"] { Syscalls.removeIfPresent(f) } }
        let dropCounts = try copyFailure(at: path, copy: stage2, swapped: false) {
            try apply(thePlan, toCopyAt: stage1, compactingInto: stage2)
        }
        let after = Journal.size(of: stage2)
        let droppedByJob = dropCounts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
            .map { (job: $0.key.string, records: $0.value) }
        if !dryRun {
            try copyFailure(at: path, copy: stage2, swapped: false) { try prepareSwap(stage2, keeping: original) }
            do { try Syscalls.rename(stage2, to: path) } catch { throw JournalError.io(path: path, error, "cannot replace the journal") }
            try copyFailure(at: path, copy: stage2, swapped: true) { try Journal.fsync(path: Journal.directory(of: path), directory: true) }
        }
        return CompactionReport(
            bytesBefore: before, bytesAfter: after, dropped: thePlan.drop.count, dryRun: dryRun, droppedByJob: droppedByJob)
    }

    /// Opens the journal under the exclusive lock, asks `plan` what to do, and (unless the plan
    /// leaves it unchanged) copies it compactly to `stage`. Returns the plan and the file's size.
    private static func planAndCopy(
        at path: String, owners: OwnersLock, to stage: String, plan: (Journal) throws -> CompactionPlan
    ) throws -> (CompactionPlan, bytesBefore: Int) {
        let journal = try Journal(path: path, options: Options(), owners: owners)
        defer { journal.closeKeepingOwners() }
        let before = journal.fileSize
        do {
            let thePlan = try plan(journal)
            if !thePlan.drop.isEmpty, let sharedLog = try journal.sharedLogFollowed() {
                throw JournalError.replica(
                    path: path, sharedLog: sharedLog, refused: "removing events (archive, compact --drop-superseded-heartbeats)")
            }
            if !thePlan.leaveUnchanged { try journal.env.copyCompacted(to: stage) }
            return (thePlan, before)
        } catch {
            Syscalls.removeIfPresent(stage)
            throw error
        }
    }

    /// Edits the copy at `stage` as `plan` says (drops records and their index entries, stores the
    /// snapshot), then copies it compactly once more to `compacted`, so the space of dropped records
    /// is gone too. Returns how many records each job lost.
    private static func apply(_ plan: CompactionPlan, toCopyAt stage: String, compactingInto compacted: String) throws -> [ExactID: Int] {
        var dropCounts: [ExactID: Int] = [:]  // a job is its bytes
        var stageOptions = Environment.Options(path: stage)
        stageOptions.noSync = true
        let env = try Environment(stageOptions)
        defer { env.close() }
        let dbs = try env.openDatabases([
            (StorageKeys.logDatabase, []), (StorageKeys.jobsDatabase, [.duplicateSort, .duplicateFixed]),
            (StorageKeys.snapshotsDatabase, []), (StorageKeys.idsDatabase, []), (StorageKeys.removalsDatabase, []),
            (StorageKeys.metaDatabase, []),
        ])
        let (log, jobs, snapshots, ids, removals, meta) = (dbs[0], dbs[1], dbs[2], dbs[3], dbs[4], dbs[5])
        try env.write { txn in
            dropCounts = [:]
            for seq in plan.drop {
                try StorageKeys.withSeqKey(seq) { key in
                    guard let bytes = try txn.get(log, key: key) else { return }
                    let record = try RecordFormat.decode(seq: seq, bytes: bytes)
                    try Journal.deleteID(of: bytes, seq: seq, txn, ids: ids)
                    var job = record.event.job
                    dropCounts[ExactID(job), default: 0] += 1
                    try job.withUTF8 { jobKey in
                        try StorageKeys.IndexEntry(version: record.version, seq: seq).withBytes { value in
                            _ = try txn.delete(jobs, key: UnsafeRawBufferPointer(jobKey), value: value)
                        }
                    }
                    _ = try txn.delete(log, key: key)
                }
            }
            if let snapshot = plan.snapshot {
                try txn.clear(snapshots)
                try StorageKeys.withSeqKey(snapshot.seq) { key in
                    try snapshot.bytes.withUnsafeBytes { v in try txn.put(snapshots, key: key, value: v) }
                }
                // Folded from the log as it is: it has absorbed every removal so far, and with nobody
                // else holding the journal, nobody needs the list of removed jobs any more.
                try txn.clear(removals)
                let generation = try StorageKeys.metaRemovalGeneration.utf8CString.withUnsafeBytes { key in
                    try txn.get(meta, key: UnsafeRawBufferPointer(rebasing: key.dropLast()))
                }
                try StorageKeys.metaSnapshotRemovals.utf8CString.withUnsafeBytes { key in
                    var zero = UInt64(0)
                    try withUnsafeBytes(of: &zero) { z in
                        try txn.put(meta, key: UnsafeRawBufferPointer(rebasing: key.dropLast()), value: generation ?? z)
                    }
                }
            }
        }
        try env.copyCompacted(to: compacted)
        return dropCounts
    }

    /// Gives the compacted file the journal's owner, group and mode and makes it durable, ready to
    /// be renamed over the journal (then the directory is fsynced, making the rename durable).
    private static func prepareSwap(_ compacted: String, keeping original: stat) throws {
        try Journal.keepOwnership(of: original, on: compacted)
        try Journal.fsync(path: compacted, directory: false)
    }

    /// Runs a step of a compaction, naming a failure to write for want of space or at the device
    /// (docs/architecture.md, "A failing disk"): the first as `storageFull`, the second as
    /// `copyFailed`. Any other error passes unchanged.
    private static func copyFailure<R>(at path: String, copy: String, swapped: Bool, _ step: () throws -> R) throws -> R {
        do {
            return try step()
        } catch {
            let code: Int32
            switch error {
            case let e as LMDBError: code = e.code
            case JournalError.lmdb(let e): code = e.code
            case JournalError.io(_, let errno, _): code = errno
            default: throw error
            }
            let cause = Syscalls.Errno(code: code).message
            if Syscalls.Errno.storageFull.contains(code) && !swapped {
                let free = Syscalls.freeBytes(onFilesystemOf: Journal.directory(of: path))
                throw JournalError.storageFull(path: path, needed: Journal.size(of: path), free: free, cause: cause)
            }
            guard Syscalls.Errno.deviceFailure.contains(code) || Syscalls.Errno.storageFull.contains(code) else { throw error }
            throw JournalError.copyFailed(path: path, copy: copy, cause: cause, swapped: swapped)
        }
    }

    /// Closes the environment but leaves the owners lock to the caller (compaction keeps it).
    func closeKeepingOwners() {
        let committer = writer.withLock { w -> GroupCommitter? in
            defer { w = nil }
            return w
        }
        committer?.shutdown()
        if options.durability == .noSync && !options.readOnly { try? env.sync() }
        env.close()
    }

    /// Gives `path` the owner, group and permission bits of `original`.
    static func keepOwnership(of original: stat, on path: String) throws(JournalError) {
        let now: stat
        do { now = try Syscalls.status(path) } catch { throw .io(path: path, error) }
        if now.st_uid != original.st_uid || now.st_gid != original.st_gid {
            do { try Syscalls.changeOwner(of: path, user: original.st_uid, group: original.st_gid) } catch {
                throw .io(path: path, error, "cannot keep the journal's owner")
            }
        }
        do { try Syscalls.changeMode(of: path, to: original.st_mode & 0o7777) } catch {
            throw .io(path: path, error, "cannot keep the journal's mode")
        }
    }

    static func size(of path: String) -> Int {
        (try? Syscalls.status(path)).map { Int($0.st_size) } ?? 0
    }

    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let dir = String(path[..<slash])
        return dir.isEmpty ? "/" : dir
    }

    static func fsync(path: String, directory: Bool) throws(JournalError) {
        do { try Syscalls.fsync(path: path, directory: directory) } catch { throw .io(path: path, error, "fsync failed") }
    }
}
