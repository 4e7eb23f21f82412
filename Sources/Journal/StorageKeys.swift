import Lifecycle
/// Key and value encodings of the journal's LMDB databases (docs/record-format.md).
///
/// - `log`:       seq (8-byte big-endian, so byte order = numeric order) → record
/// - `jobs`:      job id bytes → many 16-byte values: version (8-byte BE) ‖ seq (8-byte BE),
///                `DUPSORT|DUPFIXED`, so one job's entries sort by version, which is log order
/// - `meta`:      ASCII name → value (`format`, `createdAt`, `lastSeq`)
/// - `snapshots`: seq covered (8-byte BE) → snapshot blob (the fold layer defines the blob)
/// - `ids`:       event id (16 bytes, big-endian) → seq (8-byte BE), for events that carry an id
/// - `removals`:  removal generation (8-byte BE) → the ids of the jobs an online archive step
///                removed, each a 4-byte little-endian length and its bytes
enum StorageKeys {
    static let logDatabase = "log"
    static let jobsDatabase = "jobs"
    static let metaDatabase = "meta"
    static let snapshotsDatabase = "snapshots"
    static let idsDatabase = "ids"
    static let removalsDatabase = "removals"

    static let metaFormat = "format"
    static let metaCreatedAt = "createdAt"
    static let metaLastSeq = "lastSeq"
    /// Present in a replica: the shared log it follows (docs/scale-out.md).
    static let metaReplicaOf = "replicaOf"
    /// How many online archive steps removed jobs (the last key of `removals`, kept when the offline
    /// compaction clears that table).
    static let metaRemovalGeneration = "removalGeneration"
    /// The removal generation the stored snapshot's projections had absorbed.
    static let metaSnapshotRemovals = "snapshotRemovalGeneration"
    /// Present while an online archive runs (or after one was killed): its bundle's path.
    static let metaPendingArchive = "pendingArchive"

    /// The storage layout version (bumped when the set of databases or their encodings change).
    static let layoutVersion: UInt32 = 1

    /// The first 8 bytes of a job id as a big-endian number (zero-padded): sorts like the bytes.
    static func sortPrefix(_ job: UnsafeRawBufferPointer) -> UInt64 {
        var prefix: UInt64 = 0
        var n = 0
        for byte in job {
            if n == 8 { break }
            prefix = prefix << 8 | UInt64(byte)
            n += 1
        }
        return prefix << (8 * UInt64(8 - n))
    }

    @inline(__always)
    static func withSeqKey<R>(_ seq: UInt64, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        var be = seq.bigEndian
        return try withUnsafeBytes(of: &be, body)
    }

    @inline(__always)
    static func seq(fromKey key: UnsafeRawBufferPointer) -> UInt64? {
        guard key.count == 8 else { return nil }
        return UInt64(bigEndian: key.loadUnaligned(as: UInt64.self))
    }

    /// An `ids` key: the id's 16 bytes, big-endian (the UUID's byte order).
    @inline(__always)
    static func withIDKey<R>(_ id: EventID, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        var raw = (id.high.bigEndian, id.low.bigEndian)
        return try withUnsafeBytes(of: &raw, body)
    }

    /// The id an `ids` key names (nil for a key of another size).
    static func id(fromKey key: UnsafeRawBufferPointer) -> EventID? {
        guard key.count == 16 else { return nil }
        return EventID(
            high: UInt64(bigEndian: key.loadUnaligned(as: UInt64.self)), low: UInt64(bigEndian: key.loadUnaligned(fromByteOffset: 8, as: UInt64.self)))
    }

    /// An index value: (version, seq), both big-endian so memcmp order is numeric order.
    struct IndexEntry: Equatable {
        var version: UInt64
        var seq: UInt64

        @inline(__always)
        func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
            var raw = (version.bigEndian, seq.bigEndian)
            return try withUnsafeBytes(of: &raw, body)
        }

        init(version: UInt64, seq: UInt64) {
            self.version = version
            self.seq = seq
        }

        init?(_ bytes: UnsafeRawBufferPointer) {
            guard bytes.count == 16 else { return nil }
            version = UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self))
            seq = UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
        }
    }
}
