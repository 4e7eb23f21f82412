import LMDB
import Lifecycle
import Synchronization

/// A journal as a replica of a shared log (docs/scale-out.md): records committed elsewhere are
/// applied here in the shared log's order, each batch together with the follow cursor in one write
/// transaction, so a replica killed mid-apply resumes exactly from its cursor.
extension Journal {
    /// One record of the shared log: its job's version there and its record, encoded for seq 0 and
    /// version 0 (the writer cannot know the seq a replica will give it; the replica writes both in).
    public struct ReplicatedRecord: Sendable {
        public var version: UInt64
        public var record: [UInt8]
        public init(version: UInt64, record: [UInt8]) { (self.version, self.record) = (version, record) }
    }

    /// The shared log's place of the last batch applied: `(tx, position)`, or nil before the first.
    public struct ReplicaCursor: Sendable, Equatable {
        public var tx: Int64
        public var position: Int64
        public init(tx: Int64, position: Int64) { (self.tx, self.position) = (tx, position) }
    }

    static let metaReplicaTx = "replicaTx"
    static let metaReplicaPosition = "replicaPosition"

    /// The cursor stored with the last applied batch.
    public func replicaCursor() throws(JournalError) -> ReplicaCursor? {
        do {
            return try env.read { txn in
                guard let tx = try readMetaU64(txn, Journal.metaReplicaTx),
                    let position = try readMetaU64(txn, Journal.metaReplicaPosition)
                else { return nil }
                return ReplicaCursor(tx: Int64(bitPattern: tx), position: Int64(bitPattern: position))
            }
        } catch { throw Journal.wrap(error) }
    }

    /// Applies `records` (in the shared log's order) as the next seqs, with their versions as given
    /// (written into each record's header), and stores `cursor`, all in one write transaction on the writer thread: the batch and its
    /// cursor are both there or neither. Each record is checked first (CRC for seq 0, format, event
    /// rules), its CRC is recomputed for the seq it gets here, and its version must follow its job's
    /// version in this replica; otherwise nothing of the batch is applied (the replica and the
    /// shared log disagree: `corruptRecord` or `corruptIndex` names the record).
    @discardableResult
    public func applyReplicated(_ records: [ReplicatedRecord], cursor: ReplicaCursor) throws(JournalError) -> [RecordedEvent] {
        for (i, r) in records.enumerated() {
            let problem: JournalError? = r.record.withUnsafeBytes { bytes in
                do throws(JournalError) {
                    _ = try RecordFormat.view(seq: 0, bytes: bytes, strict: true)
                    return nil
                } catch { return error }
            }
            if let problem { throw .corruptRecord(seq: 0, detail: "replicated record \(i + 1) of the batch: \(problem)") }
        }
        let done = Completion<Result<[RecordedEvent], JournalError>>()
        let stored = Mutex<[RecordedEvent]>([])
        submit(.write(
            { txn in
                let applied = try self.writeReplicated(txn, records, cursor)
                stored.withLock { $0 = applied }  // a retried transaction (map growth) overwrites it
            },
            { result in done.fulfil(result.map { stored.withLock { $0 } }) }))
        return try done.wait().get()
    }

    private func writeReplicated(_ txn: borrowing Transaction, _ records: [ReplicatedRecord], _ cursor: ReplicaCursor) throws
        -> [RecordedEvent]
    {
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
                guard r.version > current else {
                    throw JournalError.corruptIndex(
                        job: event.event.job,
                        detail: "a replicated record of version \(r.version) does not follow version \(current) here: "
                            + "this replica and the shared log disagree")
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
        try putMeta(txn, StorageKeys.metaLastSeq, u64: seq, width: 8)
        try putMeta(txn, Journal.metaReplicaTx, u64: UInt64(bitPattern: cursor.tx), width: 8)
        try putMeta(txn, Journal.metaReplicaPosition, u64: UInt64(bitPattern: cursor.position), width: 8)
        return applied
    }
}
