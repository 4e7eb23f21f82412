import LMDB
import Lifecycle

extension Journal {
    /// A new journal records its layout version and creation time; an existing one must match.
    func checkOrInitialiseMetadata() throws(JournalError) {
        do {
            let format: UInt32? = try env.read { txn in try readMetaU32(txn, StorageKeys.metaFormat) }
            if let format {
                guard format == StorageKeys.layoutVersion else {
                    throw JournalError.unknownFormat(what: "journal \(path)", version: Int(format))
                }
                return
            }
            guard !options.readOnly else { throw JournalError.notAJournal(path: path, detail: "no format record") }
            let now = options.clock()
            try env.write { txn in
                try putMeta(txn, StorageKeys.metaFormat, u64: UInt64(StorageKeys.layoutVersion), width: 4)
                try putMeta(txn, StorageKeys.metaCreatedAt, u64: UInt64(bitPattern: now.microseconds), width: 8)
            }
        } catch {
            throw Journal.wrap(error)
        }
    }

    /// When the journal was created.
    package func createdAt() throws(JournalError) -> Timestamp? {
        do {
            return try env.read { txn in
                try readMetaU64(txn, StorageKeys.metaCreatedAt).map { Timestamp(microseconds: Int64(bitPattern: $0)) }
            }
        } catch { throw Journal.wrap(error) }
    }

    func readMetaU32(_ txn: borrowing Transaction, _ name: String) throws -> UInt32? {
        try readMeta(txn, name, as: UInt32.self).map { UInt32(littleEndian: $0) }
    }

    func readMetaU64(_ txn: borrowing Transaction, _ name: String) throws -> UInt64? {
        try readMeta(txn, name, as: UInt64.self).map { UInt64(littleEndian: $0) }
    }

    /// A fixed-size little-endian integer stored under `name` in `meta`, or nil when absent.
    private func readMeta<T: FixedWidthInteger>(_ txn: borrowing Transaction, _ name: String, as: T.Type) throws -> T? {
        let value = try name.utf8CString.withUnsafeBytes { key in
            try txn.get(meta, key: UnsafeRawBufferPointer(rebasing: key.dropLast()))
        }
        guard let value else { return nil }
        guard value.count == MemoryLayout<T>.size else {
            throw JournalError.notAJournal(path: path, detail: "bad \(name) record")
        }
        return value.loadUnaligned(as: T.self)
    }

    func putMeta(_ txn: borrowing Transaction, _ name: String, u64 value: UInt64, width: Int) throws {
        var le = value.littleEndian
        try name.utf8CString.withUnsafeBytes { key in
            try withUnsafeBytes(of: &le) { raw in
                try txn.put(
                    meta, key: UnsafeRawBufferPointer(rebasing: key.dropLast()),
                    value: UnsafeRawBufferPointer(rebasing: raw[..<width]))
            }
        }
    }

    /// The highest seq ever assigned: the recorded `lastSeq`, or the log's last key if higher.
    /// (Compaction may drop the last record; its seq is never handed out again.)
    func lastAssignedSeq(_ txn: borrowing Transaction) throws -> UInt64 {
        let recorded = try readMetaU64(txn, StorageKeys.metaLastSeq) ?? 0
        let inLog: UInt64 = try txn.withCursor(log) { c in
            guard let (k, _) = try c.get(.last) else { return 0 }
            return StorageKeys.seq(fromKey: k) ?? 0
        }
        return max(recorded, inLog)
    }

    /// Names a write that failed for want of space or at the device (docs/architecture.md, "A full
    /// disk" and "A failing disk").
    ///
    /// - LMDB marked the environment failed (its meta page's write failed): `writeFailed`, outcome
    ///   unknown, whatever the errno.
    /// - A full filesystem: LMDB reports it as the error of its write (`ENOSPC`, `EDQUOT`, `EFBIG`),
    ///   or as `EIO` when the write was cut short; an `EIO` counts as a full disk only while the
    ///   journal's filesystem has less room than the write needed (twice over, at least 1 MiB), so a
    ///   failing device is never called full. `storageFull`, nothing stored.
    /// - Any other `EIO` or `EROFS`: the data pages' write or their fdatasync failed, before the meta
    ///   page was written: `writeFailed`, nothing stored.
    func explainWriteFailure(_ error: JournalError, needing bytes: Int) -> JournalError {
        guard case .lmdb(let e) = error else { return error }
        let cause = e.code > 0 ? Syscalls.Errno(code: e.code).message : e.message
        if env.hasFailed { return .writeFailed(path: path, cause: cause, stored: nil) }
        let full = Syscalls.Errno.storageFull.contains(e.code)
        guard full || Syscalls.Errno.deviceFailure.contains(e.code) else { return error }
        let free = Syscalls.freeBytes(onFilesystemOf: Journal.directory(of: path)) ?? 0
        let needed = bytes + 4096
        if full || (e.code == Syscalls.Errno.io && free < max(2 * needed, 1 << 20)) {
            return .storageFull(path: path, needed: needed, free: free, cause: cause)
        }
        return .writeFailed(path: path, cause: cause, stored: false)
    }

    /// Bytes still free on the filesystem holding the journal, nil when it cannot be asked.
    package var freeBytes: Int? { Syscalls.freeBytes(onFilesystemOf: Journal.directory(of: path)) }

    static func wrap(_ error: any Error) -> JournalError {
        if let e = error as? JournalError { return e }
        if let e = error as? LMDBError { return e == .environmentClosed ? .closed : .lmdb(e) }
        return .io(path: "", errno: 0, detail: "\(error)")
    }
}
