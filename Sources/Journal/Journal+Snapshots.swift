import ConcurrencyKit
import LMDB
import Lifecycle

extension Journal {
    /// Stores a snapshot blob covering every event up to `seq` and deletes older snapshots.
    /// `removalGeneration`: the removal generation its projections had absorbed (Journal+JobRemoval).
    /// Runs on the writer thread in its own short transaction, between group commits.
    package func storeSnapshot(seq: UInt64, bytes: [UInt8], removalGeneration: UInt64) async throws(JournalError) {
        let result: Result<Void, JournalError> = await withCheckedContinuation { continuation in
            submit(.write({ txn in
                try self.putSnapshot(txn, seq: seq, bytes: bytes, removalGeneration: removalGeneration)
            }, { continuation.resume(returning: $0) }))
        }
        try result.get()
    }

    /// The blocking form of `storeSnapshot` (for tests that plant a snapshot).
    package func storeSnapshotBlocking(seq: UInt64, bytes: [UInt8], removalGeneration: UInt64 = 0) throws(JournalError) {
        let done = Completion<Result<Void, JournalError>>()
        submit(.write({ txn in
            try self.putSnapshot(txn, seq: seq, bytes: bytes, removalGeneration: removalGeneration)
        }, { done.fulfil($0) }))
        try done.wait().get()
    }

    func putSnapshot(_ txn: borrowing Transaction, seq: UInt64, bytes: [UInt8], removalGeneration: UInt64) throws {
        try txn.clear(snapshots)
        try StorageKeys.withSeqKey(seq) { key in
            try bytes.withUnsafeBytes { value in try txn.put(snapshots, key: key, value: value) }
        }
        try putMeta(txn, StorageKeys.metaSnapshotRemovals, u64: removalGeneration, width: 8)
    }

    /// The newest snapshot: the seq it covers and its bytes, or nil.
    package func latestSnapshot() throws(JournalError) -> (seq: UInt64, bytes: [UInt8])? {
        do {
            return try env.read { txn in
                try txn.withCursor(snapshots) { c in
                    guard let (k, v) = try c.get(.last), let seq = StorageKeys.seq(fromKey: k) else { return nil }
                    return (seq, Array(v))
                }
            }
        } catch { throw Journal.wrap(error) }
    }

    /// CRC32C of `bytes` (the journal's checksum, offered to layers that store their own blobs).
    package static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 { CRC32C.extend(0, bytes) }
}
