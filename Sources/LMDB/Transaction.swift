/// A live LMDB transaction. It exists only inside `Environment.read` / `Environment.write`,
/// which begin it and end it, so it can never outlive its scope or cross an `await`.
///
/// Buffers returned by reads point into the memory map and are valid until the scope ends.
package struct Transaction: ~Copyable {
    let handle: TxnHandle
    package let isReadOnly: Bool

    /// The id of the snapshot a read transaction sees (the last committed write transaction's id):
    /// two read transactions with the same id see the same data.
    package var snapshotID: Int { C.txnID(handle) }

    /// Opens a named database; in a write transaction it is created when missing.
    package func openDatabase(_ name: String, flags: Database.Flags = []) throws(LMDBError) -> Database {
        let (rc, dbi) = C.dbiOpen(handle, name, flags.rawValue | (isReadOnly ? 0 : C.create))
        try LMDBError.check(rc)
        return Database(dbi: dbi)
    }

    /// Opens a named database if it exists, else `nil`.
    package func openExistingDatabase(_ name: String, flags: Database.Flags = []) throws(LMDBError) -> Database? {
        let (rc, dbi) = C.dbiOpen(handle, name, flags.rawValue)
        if rc == C.notFound { return nil }
        try LMDBError.check(rc)
        return Database(dbi: dbi)
    }

    /// The value stored under `key`, or `nil`.
    package func get(_ db: Database, key: UnsafeRawBufferPointer) throws(LMDBError) -> UnsafeRawBufferPointer? {
        let (rc, value) = C.get(handle, db.dbi, key)
        if rc == C.notFound { return nil }
        try LMDBError.check(rc)
        return value
    }

    package func put(
        _ db: Database, key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer, flags: PutFlags = []
    ) throws(LMDBError) {
        try LMDBError.check(C.put(handle, db.dbi, key, value, flags.rawValue))
    }

    /// Stores `size` bytes under `key` that `fill` writes in place (`MDB_RESERVE`): no buffer is
    /// copied. `fill` must write every byte; the space is valid only during the call. Not for
    /// `DUPSORT` databases (LMDB forbids it).
    package func putReserving<R>(
        _ db: Database, key: UnsafeRawBufferPointer, size: Int, flags: PutFlags = [],
        _ fill: (UnsafeMutableRawBufferPointer) throws -> R
    ) throws -> R {
        let (rc, space) = C.reserve(handle, db.dbi, key, size, flags.rawValue)
        try LMDBError.check(rc)
        return try fill(space)
    }

    /// Deletes `key` (every value of it, unless `value` names one duplicate). Returns false when absent.
    @discardableResult
    package func delete(_ db: Database, key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer? = nil)
        throws(LMDBError) -> Bool
    {
        let rc = C.del(handle, db.dbi, key, value)
        if rc == C.notFound { return false }
        try LMDBError.check(rc)
        return true
    }

    /// Removes every entry of `db`, keeping the database.
    package func clear(_ db: Database) throws(LMDBError) {
        try LMDBError.check(C.drop(handle, db.dbi))
    }

    /// Number of entries (duplicates counted one by one).
    package func count(_ db: Database) throws(LMDBError) -> Int {
        let (rc, n) = C.dbiEntries(handle, db.dbi)
        try LMDBError.check(rc)
        return n
    }

    /// Runs `body` with a cursor over `db`; the cursor is closed when `body` returns.
    package func withCursor<R>(_ db: Database, _ body: (borrowing Cursor) throws -> R) throws -> R {
        let (rc, c) = C.cursorOpen(handle, db.dbi)
        try LMDBError.check(rc)
        guard let c else { throw LMDBError(code: C.invalid) }
        let cursor = Cursor(handle: c)
        return try body(cursor)
    }
}
