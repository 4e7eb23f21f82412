import LMDB
import Lifecycle
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Whether a commit waits for its fsync.
public enum Durability: Sendable {
    /// Acknowledged means fsynced (the default).
    case durable
    /// No fsync at commit: for tests and benchmarks. A crash may lose recent appends.
    case noSync
}

/// The durable, append-only event log with its per-job index.
///
/// One `Journal` per process per file. Appends from any number of tasks or threads go through a
/// single writer thread (group commit); reads run on the caller's thread in their own read-only
/// snapshot. A read-only journal can be opened by other processes while this one appends.
package final class Journal: Sendable {
    package struct Options: Sendable {
        /// Whether a commit waits for its fsync (`.durable`) or not (`.noSync`). Default: `.durable`.
        package var durability: Durability = .durable
        /// Open read-only: no appends; works while another process appends. Default: false.
        package var readOnly = false
        /// Create the journal when it is missing (writable opens only). Reading and maintenance
        /// commands pass false, so a typo never leaves an empty journal behind. Default: true.
        package var create = true
        /// Initial map size in bytes; the map grows by itself. Default: 1 GiB.
        package var initialMapSize = 1 << 30
        /// Most events one group commit puts in one transaction. Default: 100,000.
        package var maxEventsPerCommit = 100_000
        /// After a commit shared by several callers, the longest the writer may wait for them to
        /// come back before committing a smaller group. The actual wait adapts: it ends when they
        /// are back and never exceeds half of what a commit has recently cost. 0 disables the wait;
        /// a lone caller never waits. Default: 200.
        package var maxGroupDelayMicroseconds = 200
        /// The clock that stamps append times (injectable for tests). Default: the system's wall clock.
        package var clock: @Sendable () -> Timestamp = Journal.systemClock
        /// Where warnings go. Default: standard error, one line each, prefixed `logbook: warning: `.
        package var warn: @Sendable (String) -> Void = { message in
            let line = Array("logbook: warning: \(message)\n".utf8)
            line.withUnsafeBytes { try? Syscalls.writeAll(2, $0) }
        }

        package init() {}

        /// Options for a reader beside a possibly running writer.
        package static var forReading: Options {
            var options = Options()
            options.readOnly = true
            return options
        }
    }

    package let path: String
    package let options: Options
    let env: Environment
    let log: Database
    let jobs: Database
    let meta: Database
    let snapshots: Database
    /// Event id → seq (absent from a journal opened read-only before any writer created it).
    let ids: Database?
    /// Removal generation → the jobs an online archive step removed (absent like `ids`).
    let removals: Database?
    /// The removal generation the writer's last group commit read (see Journal+JobRemoval.swift).
    let removalGenerationSeen = Atomic<UInt64>(0)
    /// Whether this process runs an online archive now (the owners file's claim is per process).
    let archiving = Mutex(false)
    let owners: OwnersLock
    /// True when a read-only journal was opened without LMDB's lock file, because this user may not
    /// open it (evidence in a read-only directory, another user's copy). Consistent only if no process
    /// writes that file meanwhile.
    package let openedWithoutLock: Bool
    let writer: Mutex<GroupCommitter?>
    /// Observers of group sizes (see `observeGroupCommits`).
    let groupObservers = Mutex<[@Sendable (Int) -> Void]>([])
    /// Called on the writer thread after each commit, with every event it made durable, in seq order
    /// (see `observeCommits`).
    let commitObservers = Mutex<[@Sendable ([RecordedEvent]) -> Void]>([])

    /// Opens (creating it when writable and missing) the journal file at `path`.
    package static func open(at path: String, options: Options = Options()) throws(JournalError) -> Journal {
        try Journal(path: path, options: options)
    }

    init(path: String, options: Options, owners existing: OwnersLock? = nil) throws(JournalError) {
        self.path = path
        self.options = options
        if (options.readOnly || !options.create) && !Syscalls.exists(path) { throw .notFound(path: path) }
        if let existing {
            owners = existing
        } else {
            owners = try OwnersLock(
                journalPath: path, exclusive: false, required: !options.readOnly, waitMilliseconds: Journal.lockWaitMilliseconds)
        }
        var envOptions = Environment.Options(path: path)
        envOptions.mapSize = options.initialMapSize
        envOptions.readOnly = options.readOnly
        envOptions.noSync = options.durability == .noSync
        do {
            do {
                env = try Environment(envOptions)
                openedWithoutLock = false
            } catch let error where options.readOnly && (error.code == EACCES || error.code == EROFS) {
                // LMDB could not open (or create) its lock file: read the copy without one.
                envOptions.noLock = true
                env = try Environment(envOptions)
                openedWithoutLock = true
                options.warn(
                    "reading \(path) without LMDB's lock file (this user cannot open it): "
                        + "the answers are consistent only if no process writes this journal meanwhile")
            }
        } catch {
            if error == .invalidFile || error == .versionMismatch {
                throw .notAJournal(path: path, detail: error.message)
            }
            if error.code == ENOENT { throw .notFound(path: path) }
            throw .lmdb(error)
        }
        do {
            let dbs: [Database] = try env.openDatabases([
                (StorageKeys.logDatabase, []),
                (StorageKeys.jobsDatabase, [.duplicateSort, .duplicateFixed]),
                (StorageKeys.metaDatabase, []),
                (StorageKeys.snapshotsDatabase, []),
            ])
            (log, jobs, meta, snapshots) = (dbs[0], dbs[1], dbs[2], dbs[3])
            // Created by the first writable open; a read-only open of an older journal has none.
            ids = options.readOnly
                ? (try? env.openDatabases([(StorageKeys.idsDatabase, [])]))?.first
                : try env.openDatabases([(StorageKeys.idsDatabase, [])]).first
            removals = options.readOnly
                ? (try? env.openDatabases([(StorageKeys.removalsDatabase, [])]))?.first
                : try env.openDatabases([(StorageKeys.removalsDatabase, [])]).first
        } catch let error as LMDBError where error == .notFound {
            throw .notAJournal(path: path, detail: "it has no Logbook tables")
        } catch let error as LMDBError {
            throw .lmdb(error)
        } catch {
            throw .notAJournal(path: path, detail: "\(error)")
        }
        writer = Mutex(nil)
        try checkOrInitialiseMetadata()
        if !options.readOnly {
            let committer: GroupCommitter
            do { committer = try GroupCommitter(journal: self) } catch {
                close()
                throw .io(path: path, error, "cannot start the writer thread")
            }
            writer.withLock { $0 = committer }
        }
    }

    /// Stops the writer (after it drains pending appends) and closes the file. Idempotent.
    package func close() {
        closeKeepingOwners()
        owners.release()
    }

    /// Claims this journal for one service: a second claim, by any process, fails with
    /// `alreadyServed` while this journal stays open. Readers and appenders are not affected.
    package func claimService() throws(JournalError) {
        try owners.claimService(journalPath: path)
    }

    /// Registers `observer` to see every committed batch, in seq order, on the writer thread, just
    /// before that batch's caller is answered. Keep it short: it delays acknowledgements.
    package func observeCommits(_ observer: @escaping @Sendable ([RecordedEvent]) -> Void) {
        commitObservers.withLock { $0.append(observer) }
    }

    /// Registers `observer` to learn the number of events of each group commit (for metrics).
    package func observeGroupCommits(_ observer: @escaping @Sendable (Int) -> Void) {
        groupObservers.withLock { $0.append(observer) }
    }

    package static let systemClock: @Sendable () -> Timestamp = { Timestamp(microseconds: Syscalls.wallClockMicroseconds()) }

    /// Environment figures for `stats`.
    /// The device failure that stopped the writer (`JournalError.writeFailed`), nil while it writes.
    package var writesStoppedBy: JournalError? { writer.withLock { $0?.stoppedBy } }

    package var fileSize: Int { Journal.size(of: path) }
    package var mapSize: Int { env.mapSize }
    package var mapGrowths: Int { env.growthCount.load(ordering: .relaxed) }
    package var staleReadersCleared: Int { env.staleReadersCleared }

    /// Clears reader slots left by dead processes (also done at open); returns how many. A slot a
    /// killed reader left behind would otherwise pin old pages, so the file could only grow.
    @discardableResult
    package func clearStaleReaders() throws(JournalError) -> Int {
        do { return try env.clearStaleReaders() } catch { throw .lmdb(error) }
    }

    /// Group commits so far and the events they made durable (their ratio is the mean group size).
    package var commitStatistics: (commits: Int, events: Int) {
        writer.withLock { w in
            (w?.commits.load(ordering: .relaxed) ?? 0, w?.eventsCommitted.load(ordering: .relaxed) ?? 0)
        }
    }
}

extension Journal {
    /// The size of the journal file at `path` (0 if absent).
    package static func fileSizeOf(_ path: String) -> Int { size(of: path) }

    /// Returns memory freed after big, rare work (a retention run's plan) to the system.
    package static func releaseFreedMemory() { Syscalls.releaseFreedMemory() }

    /// Whether anything is at `path`.
    package static func fileExists(_ path: String) -> Bool { Syscalls.exists(path) }
}
