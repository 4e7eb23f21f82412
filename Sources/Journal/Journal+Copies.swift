import LMDB
import Lifecycle

#if canImport(Glibc)
import Glibc
#endif

/// Copies of a journal into new files: a hot backup, and a salvage of the records that survived.
///
/// Both build their file beside the destination under a temporary name and publish it with a
/// no-clobber link once it is complete and fsynced, so a kill at any moment leaves no destination
/// (or the complete one) and never touches the source: both read it in one read-only transaction.
/// What `salvage` kept and lost.
public struct SalvagedRecords: Sendable {
    /// One record that could not be kept: its seq, the job it belonged to when known (from the
    /// per-job index, else from the record's own header when that still parses), and why.
    public struct Lost: Sendable, Equatable {
        public var seq: UInt64
        public var job: String?
        public var reason: String
    }
    public var kept: Int
    public var lost: [Lost]
    /// The highest seq the source had assigned; the salvaged journal never hands it out again.
    public var lastSeq: UInt64
    /// Set when the log's B-tree could not be read past some point (LMDB reported damage).
    public var unreadable: String?
}


extension Journal {
    /// The temporary name a copy is built under before it is published as `destination`.
    package static func stagingPath(for destination: String) -> String { destination + ".partial" }

    /// Writes a compacted copy of this journal (free pages omitted) to `path`, which must not exist.
    /// LMDB copies under one read transaction: a consistent state even while another process appends.
    package func copyCompacted(to path: String) throws(JournalError) {
        do { try env.copyCompacted(to: path) } catch {
            if error.code == EEXIST { throw .exists(path: path) }
            throw error.code == EACCES || error.code == ENOENT || error.code == ENOSPC
                ? .io(path: path, Syscalls.Errno(code: error.code))
                : .lmdb(error)
        }
    }

    /// Refuses a destination that exists, then removes what an earlier, killed copy to it left.
    package static func prepareCopy(to destination: String) throws(JournalError) {
        if Syscalls.exists(destination) { throw .exists(path: destination) }
        discardCopy(stagingPath(for: destination))
    }

    /// Publishes the finished copy at `stage` as `destination`: fsyncs it, links it under its final
    /// name (failing, never overwriting, if that name appeared meanwhile), removes the temporary name
    /// and LMDB's lock files beside it, and fsyncs the directory.
    package static func publishCopy(_ stage: String, as destination: String) throws(JournalError) {
        try fsync(path: stage, directory: false)
        do { try Syscalls.link(stage, as: destination) } catch {
            if error.code == EEXIST { throw .exists(path: destination) }
            throw .io(path: destination, error, "cannot publish the copy")
        }
        discardCopy(stage)
        try fsync(path: directory(of: destination), directory: true)
    }

    /// Copies every record of this journal whose checksum and format hold into a new journal file at
    /// `stage` (which must not exist), under the same seq, with the same version and bytes, and
    /// rebuilds the per-job index from the records kept. A record is lost when its CRC fails, its
    /// format is wrong, it breaks the event rules, its key is not a seq, or it would put its job's
    /// versions out of order; every seq the old index names that was not kept is lost too, so a
    /// record unreachable in a damaged B-tree is still listed with its job. No snapshot is copied
    /// (the projections are rebuilt from what survived).
    package func salvage(into stage: String) throws(JournalError) -> SalvagedRecords {
        var destinationOptions = Environment.Options(path: stage)
        destinationOptions.noSync = true  // fsynced once, whole, before it is published
        destinationOptions.mapSize = max(1 << 30, fileSize * 2)
        let destination: Environment
        do { destination = try Environment(destinationOptions) } catch { throw .lmdb(error) }
        defer { destination.close() }
        do {
            let dbs = try destination.openDatabases([
                (StorageKeys.logDatabase, []), (StorageKeys.jobsDatabase, [.duplicateSort, .duplicateFixed]),
                (StorageKeys.metaDatabase, []), (StorageKeys.snapshotsDatabase, []), (StorageKeys.idsDatabase, []),
            ])
            let (createdAt, lastSeq, indexed) = try env.read { txn in
                (try readMetaU64(txn, StorageKeys.metaCreatedAt), try lastAssignedSeq(txn), try readIndexForSalvage(txn))
            }
            var copy = SalvageCopy(indexed: indexed)
            try copyReadableRecords(into: destination, log: dbs[0], &copy)
            copy.loseIndexedSeqsNeverRead()
            try Journal.writeIndex(copy.index, into: destination, jobs: dbs[1])
            try destination.write { txn in
                for (id, seq) in copy.eventIDs {
                    try StorageKeys.withIDKey(id) { key in
                        try StorageKeys.withSeqKey(seq) { value in try txn.put(dbs[4], key: key, value: value) }
                    }
                }
            }
            try Journal.writeMetadata(
                [
                    (StorageKeys.metaFormat, UInt64(StorageKeys.layoutVersion), 4),
                    (StorageKeys.metaCreatedAt, createdAt ?? UInt64(bitPattern: options.clock().microseconds), 8),
                    (StorageKeys.metaLastSeq, lastSeq, 8),
                ], into: destination, meta: dbs[2])
            try destination.sync()
            return SalvagedRecords(kept: copy.kept, lost: copy.lost, lastSeq: lastSeq, unreadable: copy.unreadable)
        } catch {
            throw Journal.wrap(error)
        }
    }

    /// What salvage has kept and lost so far, and the index entries of what it kept.
    struct SalvageCopy {
        /// Every (seq → job) the old index names.
        let indexed: [UInt64: String]
        var kept = 0
        var lost: [SalvagedRecords.Lost] = []
        var unreadable: String?
        var keptSeqs = Set<UInt64>()
        var index: [(job: [UInt8], entry: StorageKeys.IndexEntry)] = []
        var lastVersion: [[UInt8]: UInt64] = [:]
        /// The ids of the records kept, each with its seq.
        var eventIDs: [EventID: UInt64] = [:]

        init(indexed: [UInt64: String]) { self.indexed = indexed }

        /// Keeps the record at `seq` when its checksum, format and rules hold and its version follows
        /// its job's last kept one; otherwise lists it as lost. True when kept.
        mutating func consider(seq: UInt64, _ bytes: UnsafeRawBufferPointer) -> Bool {
            let checked: Result<EventView, JournalError> = Result { () throws(JournalError) in
                try RecordFormat.view(seq: seq, bytes: bytes, strict: true)
            }
            switch checked {
            case .failure(let problem):
                lost.append(.init(seq: seq, job: indexed[seq] ?? Journal.jobHint(bytes), reason: problem.description))
                return false
            case .success(let view):
                let job = [UInt8](view.job)
                if let previous = lastVersion[job], previous >= view.version {
                    lost.append(.init(seq: seq, job: view.jobString, reason: "version \(view.version) after version \(previous) of its job"))
                    return false
                }
                lastVersion[job] = view.version
                index.append((job, StorageKeys.IndexEntry(version: view.version, seq: seq)))
                keptSeqs.insert(seq)
                if let id = view.id, eventIDs[id] == nil { eventIDs[id] = seq }
                kept += 1
                return true
            }
        }

        /// Seqs the old index names that were never read (a damaged B-tree): lost, with their job.
        mutating func loseIndexedSeqsNeverRead() {
            let listed = Set(lost.map(\.seq))
            for (seq, job) in indexed where !keptSeqs.contains(seq) && !listed.contains(seq) {
                lost.append(.init(seq: seq, job: job, reason: "not readable in the log"))
            }
            lost.sort { $0.seq < $1.seq }
        }
    }

    /// Walks this journal's log in seq order as far as LMDB can read it, copying each record `copy`
    /// keeps into `destination`'s log, in write transactions of up to 10,000 (LMDB's page budget).
    private func copyReadableRecords(into destination: Environment, log newLog: Database, _ copy: inout SalvageCopy) throws {
        var pending: [(seq: UInt64, bytes: [UInt8])] = []
        func flush() throws {
            guard !pending.isEmpty else { return }
            try destination.write { txn in
                for (seq, bytes) in pending {
                    try StorageKeys.withSeqKey(seq) { key in
                        try bytes.withUnsafeBytes { try txn.put(newLog, key: key, value: $0, flags: .append) }
                    }
                }
            }
            pending.removeAll(keepingCapacity: true)
        }
        try env.read { txn in
            try txn.withCursor(log) { cursor in
                var entry: (key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer)?
                var lastGood: UInt64 = 0
                do { entry = try cursor.get(.first) } catch { copy.unreadable = "the log's first page: \(error)" }
                while let (k, v) = entry {
                    if let seq = StorageKeys.seq(fromKey: k) {
                        lastGood = seq
                        if copy.consider(seq: seq, v) {
                            pending.append((seq, [UInt8](v)))
                            if pending.count == 10_000 { try flush() }
                        }
                    } else {
                        copy.lost.append(.init(seq: 0, job: nil, reason: "a log key of \(k.count) bytes (its record is unusable)"))
                    }
                    do { entry = try cursor.get(.next) } catch {
                        copy.unreadable = "the log after seq \(lastGood): \(error)"
                        entry = nil
                    }
                }
            }
        }
        try flush()
    }

    /// Writes per-job index entries, sorted by job then version, in transactions of 50,000.
    private static func writeIndex(
        _ entries: [(job: [UInt8], entry: StorageKeys.IndexEntry)], into destination: Environment, jobs: Database
    ) throws {
        let sorted = entries.sorted { $0.job.lexicographicallyPrecedes($1.job) || ($0.job == $1.job && $0.entry.version < $1.entry.version) }
        var start = 0
        while start < sorted.count {
            let end = min(start + 50_000, sorted.count)
            try destination.write { txn in
                for (job, entry) in sorted[start..<end] {
                    try job.withUnsafeBytes { key in try entry.withBytes { try txn.put(jobs, key: key, value: $0) } }
                }
            }
            start = end
        }
    }

    /// Writes each (name, value, width in bytes) as a little-endian metadata value.
    private static func writeMetadata(_ values: [(String, UInt64, Int)], into destination: Environment, meta: Database) throws {
        try destination.write { txn in
            for (name, value, width) in values {
                var le = value.littleEndian
                try Array(name.utf8).withUnsafeBytes { key in
                    try withUnsafeBytes(of: &le) { raw in
                        try txn.put(meta, key: key, value: UnsafeRawBufferPointer(rebasing: raw[..<width]))
                    }
                }
            }
        }
    }

    /// Every (seq → job) the per-job index names, read as far as it can be (a damaged index yields
    /// what was readable before the damage).
    private func readIndexForSalvage(_ txn: borrowing Transaction) throws -> [UInt64: String] {
        var result: [UInt64: String] = [:]
        try txn.withCursor(jobs) { c in
            var entry = try? c.get(.first)
            while let (k, v) = entry {
                if let e = StorageKeys.IndexEntry(v) { result[e.seq] = String(decoding: k, as: UTF8.self) }
                entry = try? c.get(.next)
            }
        }
        return result
    }

    /// The job id in a record's header when the header still parses (a record whose CRC failed may
    /// still name its job correctly; the report says "probably").
    static func jobHint(_ bytes: UnsafeRawBufferPointer) -> String? {
        guard bytes.count >= RecordFormat.headerSize else { return nil }
        let length = Int(bytes.loadUnaligned(fromByteOffset: 4, as: UInt16.self).littleEndian)
        guard RecordFormat.headerSize + length <= bytes.count else { return nil }
        let job = UnsafeRawBufferPointer(rebasing: bytes[RecordFormat.headerSize..<(RecordFormat.headerSize + length)])
        guard UTF8Validation.isValid(job) else { return nil }
        return String(decoding: job, as: UTF8.self) + " (probably: from the damaged record)"
    }
}

extension Journal {
    /// Writes a new file at `path` whole or not at all: refuses when `path` exists, builds it under
    /// `stagingPath(for:)` from the chunks `produce` hands to its writer, fsyncs it, then publishes
    /// it with a no-clobber link and fsyncs the directory. A kill at any moment leaves no `path`, or
    /// the complete file (a leftover `.partial` is removed by the next attempt). Returns its size.
    @discardableResult
    package static func writeNewFile(
        at path: String, _ produce: ((UnsafeRawBufferPointer) throws -> Void) throws -> Void
    ) throws -> Int {
        try prepareCopy(to: path)
        let stage = stagingPath(for: path)
        let fd: Int32
        do { fd = try Syscalls.open(stage, O_WRONLY | O_CREAT | O_EXCL) } catch { throw JournalError.io(path: stage, error, "cannot create") }
        var size = 0
        do {
            defer { Syscalls.close(fd) }
            try produce { chunk in
                do throws(Syscalls.Errno) { try Syscalls.writeAll(fd, chunk) } catch {
                    throw JournalError.io(path: stage, error, "cannot write")
                }
                size += chunk.count
            }
        } catch {
            Syscalls.removeIfPresent(stage)
            throw error
        }
        do { try publishCopy(stage, as: path) } catch {
            Syscalls.removeIfPresent(stage)
            throw error
        }
        return size
    }

    /// Removes an unfinished copy at `stage` and LMDB's lock files beside it.
    package static func discardCopy(_ stage: String) {
        for f in [stage, stage + "-lock", stage + "-owners"] { Syscalls.removeIfPresent(f) }
    }

    /// Replaces the file at `path` (JSON Lines) with the lines `keep` accepts, atomically and
    /// durably (a new file beside it, fsynced, renamed over it, the directory fsynced): a kill
    /// leaves the old content or the new. When no line is kept the file is removed. Returns the
    /// new size.
    package static func rewriteLines(of path: String, keeping keep: (ArraySlice<UInt8>) -> Bool) throws(JournalError) -> Int {
        let content: [UInt8]
        do { content = try Syscalls.readAll(path) } catch { throw .io(path: path, error, "cannot read") }
        var kept: [UInt8] = []
        kept.reserveCapacity(content.count)
        var start = 0
        while start < content.count {
            let end = content[start...].firstIndex(of: UInt8(ascii: "\n")) ?? content.count
            let line = content[start..<end]
            if !line.isEmpty, keep(line) {
                kept.append(contentsOf: line)
                kept.append(UInt8(ascii: "\n"))
            }
            start = end + 1
        }
        if kept.isEmpty {
            Syscalls.removeIfPresent(path)
            try fsync(path: directory(of: path), directory: true)
            return 0
        }
        let stage = stagingPath(for: path)
        Syscalls.removeIfPresent(stage)
        do throws(Syscalls.Errno) {
            let fd = try Syscalls.open(stage, O_WRONLY | O_CREAT | O_EXCL)
            defer { Syscalls.close(fd) }
            let failure: Syscalls.Errno? = kept.withUnsafeBytes { b in
                do throws(Syscalls.Errno) { try Syscalls.writeAll(fd, b) } catch { return error }
                return nil
            }
            if let failure { throw failure }
        } catch {
            Syscalls.removeIfPresent(stage)
            throw .io(path: stage, error, "cannot write")
        }
        try fsync(path: stage, directory: false)
        do { try Syscalls.rename(stage, to: path) } catch { throw .io(path: path, error, "cannot replace") }
        try fsync(path: directory(of: path), directory: true)
        return kept.count
    }
}
