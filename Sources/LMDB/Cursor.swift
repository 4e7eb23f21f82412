/// A position in a database, valid only inside `Transaction.withCursor`.
package struct Cursor: ~Copyable {
    let handle: CursorHandle

    deinit { C.cursorClose(handle) }

    /// A key/value pair pointing into the memory map; valid until the transaction ends.
    package typealias Entry = (key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer)

    /// Moves the cursor and returns the entry there, or `nil` when there is none (`MDB_NOTFOUND`).
    package func get(
        _ op: CursorOperation, key: UnsafeRawBufferPointer? = nil, value: UnsafeRawBufferPointer? = nil
    ) throws(LMDBError) -> Entry? {
        let (rc, k, v) = C.cursorGet(handle, op, key: key, value: value)
        if rc == C.notFound { return nil }
        try LMDBError.check(rc)
        return (k, v)
    }

    package func put(key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer, flags: PutFlags = [])
        throws(LMDBError)
    {
        try LMDBError.check(C.cursorPut(handle, key, value, flags.rawValue))
    }

    /// Deletes the entry under the cursor.
    package func deleteCurrent() throws(LMDBError) {
        try LMDBError.check(C.cursorDel(handle))
    }
}
