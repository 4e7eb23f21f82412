import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// An open LMDB environment (one file plus its lock file; Logbook uses `MDB_NOSUBDIR`).
///
/// Invariants this type keeps:
/// - read transactions are `MDB_NOTLS`, so any thread may use them and one thread may hold several;
/// - a write transaction that hits `MDB_MAP_FULL` is aborted, the map grows, and the body runs again,
///   so callers never see a full map (their body must be re-runnable: it is, since an abort undoes it);
/// - a transaction that meets `MDB_MAP_RESIZED` (another process grew the map) adopts the new size
///   and retries;
/// - the map is only ever resized while no transaction of this process is live (`ResizeLock`).
package final class Environment: @unchecked Sendable {
    package struct Options: Sendable {
        package var path: String
        /// Initial map size in bytes; the map grows on demand, so this is a starting point, not a limit.
        package var mapSize: Int = 1 << 30
        /// The largest single growth step; growth doubles the map until it reaches this step.
        package var maxGrowthStep: Int = 8 << 30
        package var maxDatabases: UInt32 = 8
        package var maxReaders: UInt32 = 256
        package var readOnly: Bool = false
        /// Skip fsync at commit (`MDB_NOSYNC`): fast, and a crash may lose recent commits.
        package var noSync: Bool = false
        /// No lock file (`MDB_NOLOCK`): only for a read-only copy that no process writes, such as
        /// evidence on a read-only medium or in a directory this user cannot write.
        package var noLock: Bool = false

        package init(path: String) { self.path = path }
    }

    package let options: Options
    let handle: EnvHandle
    private let resizeLock = ResizeLock()
    var resizeLockForSetup: ResizeLock { resizeLock }
    private let closed = Atomic<Bool>(false)
    /// How many times this process grew the map (for tests and stats).
    package let growthCount = Atomic<Int>(0)
    /// Stale reader slots cleared by `mdb_reader_check` when the environment opened.
    package let staleReadersCleared: Int

    package init(_ options: Options) throws(LMDBError) {
        self.options = options
        let (rc, env) = C.envCreate()
        try LMDBError.check(rc)
        guard let env else { throw LMDBError(code: C.invalid) }
        do {
            try LMDBError.check(C.envSetMapSize(env, options.mapSize))
            try LMDBError.check(C.envSetMaxDBs(env, options.maxDatabases))
            try LMDBError.check(C.envSetMaxReaders(env, options.maxReaders))
            var flags = C.noSubdir | C.noTLS
            if options.readOnly { flags |= C.readOnly }
            if options.noSync { flags |= C.noSync }
            if options.noLock { flags |= C.noLock }
            try LMDBError.check(C.envOpen(env, options.path, flags, 0o644))
            // A process killed while it held a read transaction leaves its slot behind; it would pin
            // old pages forever. Clear such slots now.
            let (rcCheck, dead) = C.envReaderCheck(env)
            try LMDBError.check(rcCheck)
            staleReadersCleared = Int(dead)
        } catch {
            C.envClose(env)
            throw error
        }
        handle = env
    }

    deinit { close() }

    /// Closes the environment. Idempotent. No transaction may be live.
    /// Waits for this process's live transactions to end (they hold the resize lock shared), so a
    /// reader on another thread never touches a closed environment: it gets `environmentClosed`.
    package func close() {
        resizeLock.lockExclusive()
        defer { resizeLock.unlock() }
        if closed.exchange(true, ordering: .acquiringAndReleasing) { return }
        C.envClose(handle)
    }

    // MARK: Transactions

    /// Begins a transaction with the resize lock held shared, adopting a map another process grew
    /// (`MDB_MAP_RESIZED`) on the way. The caller ends the transaction, then unlocks.
    private func begin(readOnly: Bool) throws(LMDBError) -> TxnHandle {
        while true {
            resizeLock.lockShared()
            if closed.load(ordering: .acquiring) {
                resizeLock.unlock()
                throw .environmentClosed
            }
            let (rc, txn) = C.txnBegin(handle, readOnly: readOnly)
            if rc == 0, let txn { return txn }
            resizeLock.unlock()
            guard rc == C.mapResized else { throw LMDBError(code: rc) }
            try adoptForeignMapSize()
        }
    }

    /// Whether LMDB has marked this environment failed: the write of a commit's meta page failed
    /// (`MDB_FATAL_ERROR`), after which LMDB refuses every transaction (`MDB_PANIC`) until the
    /// environment is closed and opened again. Asked by beginning a read transaction.
    package var hasFailed: Bool {
        do {
            _ = try readWithoutWaiting { _ in () }
            return false
        } catch let error as LMDBError {
            return error == .panic
        } catch {
            return false
        }
    }

    /// Runs `body` in a read-only snapshot of the database.
    package func read<R>(_ body: (borrowing Transaction) throws -> R) throws -> R {
        let txn = try begin(readOnly: true)
        defer {
            C.txnAbort(txn)
            resizeLock.unlock()
        }
        return try body(Transaction(handle: txn, isReadOnly: true))
    }

    /// Runs `body` in a read-only snapshot if one can begin without waiting: nil when the map is
    /// being resized, or another process has grown it (adopting that would wait for every reader
    /// in this process). For work on a second thread that a thread holding a read transaction
    /// waits for: waiting here could wait on that very thread.
    package func readWithoutWaiting<R>(_ body: (borrowing Transaction) throws -> R) throws -> R? {
        guard resizeLock.tryLockShared() else { return nil }
        if closed.load(ordering: .acquiring) {
            resizeLock.unlock()
            throw LMDBError.environmentClosed
        }
        let (rc, txn) = C.txnBegin(handle, readOnly: true)
        guard rc == 0, let txn else {
            resizeLock.unlock()
            if rc == C.mapResized { return nil }
            throw LMDBError(code: rc)
        }
        defer {
            C.txnAbort(txn)
            resizeLock.unlock()
        }
        return try body(Transaction(handle: txn, isReadOnly: true))
    }

    /// Runs `body` in a write transaction and commits it. Any error from `body` aborts it.
    ///
    /// On `MDB_MAP_FULL` (from a put or from the commit) the map grows and `body` runs again.
    /// LMDB serialises writers across processes; callers in one process should also use one thread.
    ///
    /// `metaSync: false` commits with `MDB_NOMETASYNC`: the data pages are fsynced, the meta page is
    /// written but not (one fdatasync instead of two). Integrity is kept; a system crash may undo
    /// this transaction until the next synced commit, which makes it durable too. For work that is
    /// redone when lost (in-place removal steps). Only for the process's one writer thread.
    package func write<R>(metaSync: Bool = true, _ body: (borrowing Transaction) throws -> R) throws -> R {
        if !metaSync, !options.noSync {
            try LMDBError.check(C.envSetNoMetaSync(handle, true))
        }
        defer { if !metaSync, !options.noSync { _ = C.envSetNoMetaSync(handle, false) } }
        while true {
            let txn = try begin(readOnly: false)
            let result: R
            do {
                result = try body(Transaction(handle: txn, isReadOnly: false))
            } catch let error as LMDBError where error == .mapFull {
                C.txnAbort(txn)
                resizeLock.unlock()
                try grow()
                continue
            } catch {
                C.txnAbort(txn)
                resizeLock.unlock()
                throw error
            }
            let commit = C.txnCommit(txn)  // frees the transaction whatever it returns
            resizeLock.unlock()
            if commit == C.mapFull {
                try grow()
                continue
            }
            try LMDBError.check(commit)
            return result
        }
    }

    // MARK: Map size

    /// The current map size in bytes.
    package var mapSize: Int { C.envInfo(handle).mapSize }

    /// Bytes in use: pages up to the last used page.
    package var usedBytes: Int {
        let info = C.envInfo(handle)
        return (info.lastPage + 1) * C.envPageSize(handle)
    }

    /// Live reader slots in the lock table (all processes).
    package var readerSlotsInUse: Int { C.envInfo(handle).readers }

    private func grow() throws(LMDBError) {
        resizeLock.lockExclusive()
        defer { resizeLock.unlock() }
        let current = C.envInfo(handle).mapSize
        let step = min(max(current, 1 << 20), options.maxGrowthStep)
        try LMDBError.check(C.envSetMapSize(handle, current + step))
        growthCount.add(1, ordering: .relaxed)
    }

    private func adoptForeignMapSize() throws(LMDBError) {
        resizeLock.lockExclusive()
        defer { resizeLock.unlock() }
        // Size 0 means: take the size another process recorded in the file.
        try LMDBError.check(C.envSetMapSize(handle, 0))
    }

    // MARK: Maintenance

    /// Flushes buffers to disk (needed after writes in `noSync` mode before claiming durability).
    package func sync() throws(LMDBError) {
        try LMDBError.check(C.envSync(handle, force: true))
    }

    /// Clears reader slots left by dead processes; returns how many.
    @discardableResult
    package func clearStaleReaders() throws(LMDBError) -> Int {
        let (rc, dead) = C.envReaderCheck(handle)
        try LMDBError.check(rc)
        return Int(dead)
    }

    /// Drops this process's resident pages of the memory map between `lowest` and `highest` (two
    /// addresses of values read from the map). The pages stay in the page cache and fault back in on
    /// the next read; the map is read-only without `MDB_WRITEMAP`, so nothing is lost. Long scans call
    /// it after each chunk so a scan of any size keeps the process's resident memory flat.
    package func releaseResidentPages(from lowest: UnsafeRawPointer, through highest: UnsafeRawPointer) {
        let page = C.pageSize
        let start = Int(bitPattern: lowest) & ~(page - 1)
        let end = Int(bitPattern: highest)
        guard end > start, let base = UnsafeMutableRawPointer(bitPattern: start) else { return }
        resizeLock.lockShared()  // the map cannot move meanwhile
        defer { resizeLock.unlock() }
        C.dropResidentPages(base, length: end - start)
    }

    /// Writes a compacted copy (free pages omitted) to `path`, which must not exist.
    package func copyCompacted(to path: String) throws(LMDBError) {
        resizeLock.lockShared()
        defer { resizeLock.unlock() }
        try LMDBError.check(C.envCopyCompact(handle, path))
    }
}

extension Environment {
    /// Opens named databases once for the environment's lifetime (created when missing and writable).
    /// Throws `notFound` when the environment is read-only and a database does not exist.
    package func openDatabases(_ specs: [(name: String, flags: Database.Flags)]) throws -> [Database] {
        resizeLockForSetup.lockShared()
        defer { resizeLockForSetup.unlock() }
        let (rc, txn) = C.txnBegin(handle, readOnly: options.readOnly)
        try LMDBError.check(rc)
        guard let txn else { throw LMDBError(code: C.invalid) }
        var result: [Database] = []
        for spec in specs {
            let (rcOpen, dbi) = C.dbiOpen(txn, spec.name, spec.flags.rawValue | (options.readOnly ? 0 : C.create))
            if rcOpen != 0 {
                C.txnAbort(txn)
                throw LMDBError(code: rcOpen)
            }
            result.append(Database(dbi: dbi))
        }
        // Commit (even when read-only) so the handles outlive the transaction.
        try LMDBError.check(C.txnCommit(txn))
        return result
    }
}
