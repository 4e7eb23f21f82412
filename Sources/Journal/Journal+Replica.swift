import ConcurrencyKit
import LMDB
import Lifecycle
import Synchronization

/// A journal as a replica of a shared log (docs/scale-out.md): records committed elsewhere are
/// applied here in the shared log's order, each batch together with the follow cursor in one write
/// transaction, so a replica killed mid-apply resumes exactly from its cursor.
/// A place in the shared log's follow order: `(tx, position)`.
public struct ReplicaCursor: Sendable, Hashable, Comparable {
    public var tx: Int64
    public var position: Int64
    public init(tx: Int64, position: Int64) { (self.tx, self.position) = (tx, position) }
    /// Before the shared log's first row: where an empty replica is.
    public static let start = ReplicaCursor(tx: 0, position: 0)
    public static func < (a: ReplicaCursor, b: ReplicaCursor) -> Bool { (a.tx, a.position) < (b.tx, b.position) }
}

extension Journal {
    /// One record of the shared log: its place there, its job's version there and its record,
    /// encoded for seq 0 and version 0 (the writer cannot know the seq a replica will give it; the
    /// replica writes both in).
    package struct ReplicatedRecord: Sendable {
        package var cursor: ReplicaCursor
        package var version: UInt64
        package var record: [UInt8]
        package init(cursor: ReplicaCursor, version: UInt64, record: [UInt8]) {
            (self.cursor, self.version, self.record) = (cursor, version, record)
        }
    }

    static let metaReplicaTx = "replicaTx"
    static let metaReplicaPosition = "replicaPosition"

    /// The cursor stored with the last applied batch.
    package func replicaCursor() throws(JournalError) -> ReplicaCursor? {
        do {
            return try env.read { txn in try readCursor(txn) }
        } catch { throw Journal.wrap(error) }
    }

    private func readCursor(_ txn: borrowing Transaction) throws -> ReplicaCursor? {
        guard let tx = try readMetaU64(txn, Journal.metaReplicaTx), let position = try readMetaU64(txn, Journal.metaReplicaPosition)
        else { return nil }
        return ReplicaCursor(tx: Int64(bitPattern: tx), position: Int64(bitPattern: position))
    }

    /// The shared log this journal is a replica of, or nil for an ordinary journal.
    package func sharedLogFollowed() throws(JournalError) -> String? {
        do {
            return try env.read { txn in try replicaMarker(txn) }
        } catch { throw Journal.wrap(error) }
    }

    /// Makes this journal a replica of `sharedLog` (it records the name in `meta`): from then on it
    /// refuses local appends and event-removing maintenance, and applies only that log's records.
    /// Refused (`notAReplica`) when the journal holds events of its own or follows another log;
    /// nothing to do when it already follows `sharedLog`.
    package func becomeReplica(of sharedLog: String) throws(JournalError) {
        let done = Completion<Result<Void, JournalError>>()
        submit(.write({ txn in try self.claimReplica(txn, of: sharedLog) }, { done.fulfil($0) }))
        try done.wait().get()
    }

    private func claimReplica(_ txn: borrowing Transaction, of sharedLog: String) throws {
        if let followed = try replicaMarker(txn) {
            guard followed == sharedLog else {
                throw JournalError.notAReplica(path: path, sharedLog: sharedLog, detail: "it follows \(followed)")
            }
            return
        }
        let last = try lastAssignedSeq(txn)
        guard last == 0 else {
            throw JournalError.notAReplica(
                path: path, sharedLog: sharedLog, detail: "it holds events of its own (through seq \(last)), appended locally")
        }
        try putMetaBytes(txn, StorageKeys.metaReplicaOf, Array(sharedLog.utf8))
    }

    /// The shared log named in `meta`, if this journal is a replica.
    func replicaMarker(_ txn: borrowing Transaction) throws -> String? {
        let value = try StorageKeys.metaReplicaOf.utf8CString.withUnsafeBytes { key in
            try txn.get(meta, key: UnsafeRawBufferPointer(rebasing: key.dropLast()))
        }
        return value.map { String(decoding: $0, as: UTF8.self) }
    }

    func putMetaBytes(_ txn: borrowing Transaction, _ name: String, _ bytes: [UInt8]) throws {
        try name.utf8CString.withUnsafeBytes { key in
            try bytes.withUnsafeBytes { value in
                try txn.put(meta, key: UnsafeRawBufferPointer(rebasing: key.dropLast()), value: value)
            }
        }
    }

    /// Applies `records` (in the shared log's order) as the next seqs, with their versions as given
    /// (written into each record's header), and stores the last one's cursor, all in one write
    /// transaction on the writer thread: the batch and its cursor are both there or neither. Records
    /// at or before the stored cursor are skipped (another process following the same log into this
    /// replica applied them first). Each record is checked first (CRC for seq 0, format, event
    /// rules), its CRC is recomputed for the seq it gets here, and its version must be its job's
    /// version in this replica plus one (a skipped version is a hole, never filled later); otherwise
    /// nothing of the batch is applied (the replica and the
    /// shared log disagree: `corruptRecord` or `corruptIndex` names the record). The first apply
    /// makes an empty journal a replica of `sharedLog` (see `becomeReplica(of:)`). Returns the
    /// records applied by this call.
    @discardableResult
    package func applyReplicated(_ records: [ReplicatedRecord], from sharedLog: String) throws(JournalError) -> [RecordedEvent] {
        let done = Completion<Result<[RecordedEvent], JournalError>>()
        submitReplicated(records, from: sharedLog) { done.fulfil($0) }
        return try done.wait().get()
    }

    /// `applyReplicated` for a task: suspends instead of blocking while the writer applies.
    @discardableResult
    package func applyReplicated(_ records: [ReplicatedRecord], from sharedLog: String) async throws(JournalError) -> [RecordedEvent] {
        let result: Result<[RecordedEvent], JournalError> = await withCheckedContinuation { continuation in
            submitReplicated(records, from: sharedLog) { continuation.resume(returning: $0) }
        }
        return try result.get()
    }

    private func submitReplicated(
        _ records: [ReplicatedRecord], from sharedLog: String,
        _ completion: @escaping @Sendable (Result<[RecordedEvent], JournalError>) -> Void
    ) {
        for (i, r) in records.enumerated() {
            let problem: JournalError? = r.record.withUnsafeBytes { bytes in
                do throws(JournalError) {
                    _ = try RecordFormat.view(seq: 0, bytes: bytes, strict: true)
                    return nil
                } catch { return error }
            }
            if let problem {
                completion(.failure(.corruptRecord(seq: 0, detail: "replicated record \(i + 1) of the batch: \(problem)")))
                return
            }
        }
        let stored = Mutex<[RecordedEvent]>([])
        submit(.write(
            { txn in
                try self.claimReplica(txn, of: sharedLog)
                let applied = try self.writeReplicated(txn, records)
                stored.withLock { $0 = applied }  // a retried transaction (map growth) overwrites it
            },
            // One fdatasync, not two (MDB_NOMETASYNC): a system crash may undo the last batch, and its
            // cursor with it (one transaction), which the follower then fetches again from the shared
            // log, where every acknowledged event is durable (docs/scale-out.md).
            metaSync: false,
            { result in completion(result.map { stored.withLock { $0 } }) }))
    }

    private func writeReplicated(_ txn: borrowing Transaction, _ records: [ReplicatedRecord]) throws -> [RecordedEvent] {
        let stored = try readCursor(txn)
        let records = records.filter { stored == nil || $0.cursor > stored! }
        guard let cursor = records.last?.cursor else { return [] }
        var seq = try lastAssignedSeq(txn)
        var applied: [RecordedEvent] = []
        var versions: [ExactID: UInt64] = [:]
        var entries: [(job: String, entry: StorageKeys.IndexEntry)] = []
        try txn.withCursor(jobs) { index in
            for r in records {
                seq += 1
                var bytes = r.record
                withUnsafeBytes(of: r.version.littleEndian) { for (i, b) in $0.enumerated() { bytes[8 + i] = b } }
                let body = bytes.count - RecordFormat.crcSize
                let crc = bytes.withUnsafeBytes { RecordFormat.checksum(seq: seq, body: UnsafeRawBufferPointer(rebasing: $0[..<body])) }
                withUnsafeBytes(of: crc.littleEndian) { for (i, b) in $0.enumerated() { bytes[body + i] = b } }
                let event = try bytes.withUnsafeBytes { try RecordFormat.decode(seq: seq, bytes: $0) }
                let job = ExactID(event.event.job)
                let current = try versions[job] ?? currentVersion(of: event.event.job, cursor: index)
                guard r.version == current + 1 else {
                    throw JournalError.corruptIndex(
                        job: event.event.job,
                        detail: "a replicated record of version \(r.version) does not follow version \(current) here "
                            + Journal.missingVersions(after: current, before: r.version)
                            + ": this replica and the shared log disagree")
                }
                versions[job] = r.version
                try StorageKeys.withSeqKey(seq) { key in
                    try bytes.withUnsafeBytes { try txn.put(log, key: key, value: $0, flags: .append) }
                }
                entries.append((event.event.job, StorageKeys.IndexEntry(version: r.version, seq: seq)))
                applied.append(event)
            }
        }
        for (job, entry) in entries {
            var id = job
            try id.withUTF8 { key in
                try entry.withBytes { value in try txn.put(jobs, key: UnsafeRawBufferPointer(key), value: value) }
            }
        }
        try putIDs(txn, applied)
        try putMeta(txn, StorageKeys.metaLastSeq, u64: seq, width: 8)
        try putMeta(txn, Journal.metaReplicaTx, u64: UInt64(bitPattern: cursor.tx), width: 8)
        try putMeta(txn, Journal.metaReplicaPosition, u64: UInt64(bitPattern: cursor.position), width: 8)
        return applied
    }

    /// "(version 3 is missing)", "(versions 3...5 are missing)", or nothing when none is.
    static func missingVersions(after current: UInt64, before next: UInt64) -> String {
        guard next > current + 1 else { return "" }
        return next == current + 2 ? "(version \(current + 1) is missing)" : "(versions \(current + 1)...\(next - 1) are missing)"
    }
}
