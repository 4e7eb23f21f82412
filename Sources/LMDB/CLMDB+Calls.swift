// The only file that imports CLMDB. Every call into liblmdb goes through here, so the rest of the
// module never sees C types beyond opaque pointers and raw buffers; so do the module's two calls
// into the C library (the page size, dropping resident pages of the map).
import CLMDB

#if canImport(Glibc)
import Glibc
#endif

typealias EnvHandle = OpaquePointer
typealias TxnHandle = OpaquePointer
typealias CursorHandle = OpaquePointer

enum C {
    // Environment flags.
    static let noSubdir = UInt32(MDB_NOSUBDIR)
    static let noSync = UInt32(MDB_NOSYNC)
    static let readOnly = UInt32(MDB_RDONLY)
    static let noTLS = UInt32(MDB_NOTLS)
    static let noLock = UInt32(MDB_NOLOCK)
    static let noReadahead = UInt32(MDB_NORDAHEAD)
    // Database flags.
    static let create = UInt32(MDB_CREATE)
    static let dupSort = UInt32(MDB_DUPSORT)
    static let dupFixed = UInt32(MDB_DUPFIXED)
    // Put flags.
    static let append = UInt32(MDB_APPEND)
    static let appendDup = UInt32(MDB_APPENDDUP)
    static let noOverwrite = UInt32(MDB_NOOVERWRITE)
    static let noDupData = UInt32(MDB_NODUPDATA)
    static let copyCompact = UInt32(MDB_CP_COMPACT)

    static func strerror(_ code: Int32) -> String { String(cString: mdb_strerror(code)) }

    /// The size of a page of memory (`sysconf(_SC_PAGESIZE)`).
    static let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))

    /// `madvise(MADV_DONTNEED)` of a page-aligned span of the map: its pages leave this process's
    /// resident set (a read-only file mapping: they fault back in from the page cache).
    static func dropResidentPages(_ base: UnsafeMutableRawPointer, length: Int) { _ = madvise(base, length, MADV_DONTNEED) }

    static func envCreate() -> (Int32, EnvHandle?) {
        var env: EnvHandle?
        let rc = mdb_env_create(&env)
        return (rc, env)
    }
    static func envSetMapSize(_ env: EnvHandle, _ size: Int) -> Int32 { mdb_env_set_mapsize(env, size) }
    static func envSetMaxDBs(_ env: EnvHandle, _ n: UInt32) -> Int32 { mdb_env_set_maxdbs(env, MDB_dbi(n)) }
    static func envSetMaxReaders(_ env: EnvHandle, _ n: UInt32) -> Int32 { mdb_env_set_maxreaders(env, n) }
    static func envOpen(_ env: EnvHandle, _ path: String, _ flags: UInt32, _ mode: UInt32) -> Int32 {
        mdb_env_open(env, path, flags, mdb_mode_t(mode))
    }
    static func envClose(_ env: EnvHandle) { mdb_env_close(env) }
    static func envSync(_ env: EnvHandle, force: Bool) -> Int32 { mdb_env_sync(env, force ? 1 : 0) }
    static func envSetNoMetaSync(_ env: EnvHandle, _ on: Bool) -> Int32 { mdb_env_set_flags(env, UInt32(MDB_NOMETASYNC), on ? 1 : 0) }
    static func envReaderCheck(_ env: EnvHandle) -> (Int32, Int32) {
        var dead: Int32 = 0
        let rc = mdb_reader_check(env, &dead)
        return (rc, dead)
    }
    static func envCopyCompact(_ env: EnvHandle, _ path: String) -> Int32 { mdb_env_copy2(env, path, copyCompact) }
    static func envInfo(_ env: EnvHandle) -> (rc: Int32, mapSize: Int, lastPage: Int, lastTxn: Int, readers: Int) {
        var info = MDB_envinfo()
        let rc = mdb_env_info(env, &info)
        return (rc, info.me_mapsize, info.me_last_pgno, info.me_last_txnid, Int(info.me_numreaders))
    }
    static func envPageSize(_ env: EnvHandle) -> Int {
        var st = MDB_stat()
        _ = mdb_env_stat(env, &st)
        return Int(st.ms_psize)
    }

    static func txnBegin(_ env: EnvHandle, readOnly: Bool, parent: TxnHandle? = nil) -> (Int32, TxnHandle?) {
        var txn: TxnHandle?
        let rc = mdb_txn_begin(env, parent, readOnly ? UInt32(MDB_RDONLY) : 0, &txn)
        return (rc, txn)
    }
    static func txnCommit(_ txn: TxnHandle) -> Int32 { mdb_txn_commit(txn) }
    static func txnAbort(_ txn: TxnHandle) { mdb_txn_abort(txn) }
    static func txnID(_ txn: TxnHandle) -> Int { mdb_txn_id(txn) }

    static func dbiOpen(_ txn: TxnHandle, _ name: String, _ flags: UInt32) -> (Int32, UInt32) {
        var dbi: MDB_dbi = 0
        let rc = mdb_dbi_open(txn, name, flags, &dbi)
        return (rc, UInt32(dbi))
    }
    static func dbiEntries(_ txn: TxnHandle, _ dbi: UInt32) -> (Int32, Int) {
        var st = MDB_stat()
        let rc = mdb_stat(txn, MDB_dbi(dbi), &st)
        return (rc, st.ms_entries)
    }
    static func drop(_ txn: TxnHandle, _ dbi: UInt32) -> Int32 { mdb_drop(txn, MDB_dbi(dbi), 0) }

    static func get(_ txn: TxnHandle, _ dbi: UInt32, _ key: UnsafeRawBufferPointer) -> (Int32, UnsafeRawBufferPointer) {
        var k = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
        var v = MDB_val()
        let rc = mdb_get(txn, MDB_dbi(dbi), &k, &v)
        return (rc, UnsafeRawBufferPointer(start: v.mv_data, count: v.mv_size))
    }
    static func put(
        _ txn: TxnHandle, _ dbi: UInt32, _ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer, _ flags: UInt32
    ) -> Int32 {
        var k = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
        var v = MDB_val(mv_size: value.count, mv_data: UnsafeMutableRawPointer(mutating: value.baseAddress))
        return mdb_put(txn, MDB_dbi(dbi), &k, &v, flags)
    }
    /// `mdb_put` with `MDB_RESERVE`: makes room for `size` bytes and returns where to write them.
    static func reserve(
        _ txn: TxnHandle, _ dbi: UInt32, _ key: UnsafeRawBufferPointer, _ size: Int, _ flags: UInt32
    ) -> (Int32, UnsafeMutableRawBufferPointer) {
        var k = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
        var v = MDB_val(mv_size: size, mv_data: nil)
        let rc = mdb_put(txn, MDB_dbi(dbi), &k, &v, flags | UInt32(MDB_RESERVE))
        return (rc, UnsafeMutableRawBufferPointer(start: v.mv_data, count: rc == 0 ? v.mv_size : 0))
    }
    static func del(_ txn: TxnHandle, _ dbi: UInt32, _ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer?) -> Int32 {
        var k = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
        guard let value else { return mdb_del(txn, MDB_dbi(dbi), &k, nil) }
        var v = MDB_val(mv_size: value.count, mv_data: UnsafeMutableRawPointer(mutating: value.baseAddress))
        return mdb_del(txn, MDB_dbi(dbi), &k, &v)
    }

    static func cursorOpen(_ txn: TxnHandle, _ dbi: UInt32) -> (Int32, CursorHandle?) {
        var c: CursorHandle?
        let rc = mdb_cursor_open(txn, MDB_dbi(dbi), &c)
        return (rc, c)
    }
    static func cursorClose(_ c: CursorHandle) { mdb_cursor_close(c) }
    static func cursorGet(
        _ c: CursorHandle, _ op: CursorOperation, key: UnsafeRawBufferPointer?, value: UnsafeRawBufferPointer?
    ) -> (Int32, UnsafeRawBufferPointer, UnsafeRawBufferPointer) {
        var k = MDB_val(mv_size: key?.count ?? 0, mv_data: UnsafeMutableRawPointer(mutating: key?.baseAddress))
        var v = MDB_val(mv_size: value?.count ?? 0, mv_data: UnsafeMutableRawPointer(mutating: value?.baseAddress))
        let rc = mdb_cursor_get(c, &k, &v, op.cValue)
        return (
            rc, UnsafeRawBufferPointer(start: k.mv_data, count: k.mv_size),
            UnsafeRawBufferPointer(start: v.mv_data, count: v.mv_size)
        )
    }
    static func cursorPut(_ c: CursorHandle, _ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer, _ flags: UInt32)
        -> Int32
    {
        var k = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
        var v = MDB_val(mv_size: value.count, mv_data: UnsafeMutableRawPointer(mutating: value.baseAddress))
        return mdb_cursor_put(c, &k, &v, flags)
    }
    static func cursorDel(_ c: CursorHandle) -> Int32 { mdb_cursor_del(c, 0) }

    // Return codes the wrapper names.
    static let success = Int32(MDB_SUCCESS)
    static let notFound = Int32(MDB_NOTFOUND)
    static let keyExist = Int32(MDB_KEYEXIST)
    static let mapFull = Int32(MDB_MAP_FULL)
    static let mapResized = Int32(MDB_MAP_RESIZED)
    static let readersFull = Int32(MDB_READERS_FULL)
    static let corrupted = Int32(MDB_CORRUPTED)
    static let panic = Int32(MDB_PANIC)
    static let versionMismatch = Int32(MDB_VERSION_MISMATCH)
    static let invalid = Int32(MDB_INVALID)
    static let badValueSize = Int32(MDB_BAD_VALSIZE)
    static let txnFull = Int32(MDB_TXN_FULL)
    static let incompatible = Int32(MDB_INCOMPATIBLE)
}

extension CursorOperation {
    var cValue: MDB_cursor_op {
        switch self {
        case .first: MDB_FIRST
        case .last: MDB_LAST
        case .next: MDB_NEXT
        case .previous: MDB_PREV
        case .set: MDB_SET
        case .setKey: MDB_SET_KEY
        case .setRange: MDB_SET_RANGE
        case .getBoth: MDB_GET_BOTH
        case .getBothRange: MDB_GET_BOTH_RANGE
        case .firstDup: MDB_FIRST_DUP
        case .lastDup: MDB_LAST_DUP
        case .nextDup: MDB_NEXT_DUP
        case .previousDup: MDB_PREV_DUP
        case .nextNoDup: MDB_NEXT_NODUP
        case .getCurrent: MDB_GET_CURRENT
        }
    }
}
