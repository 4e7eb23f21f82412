#if canImport(Glibc)
import Glibc
#endif

/// Tells whether other processes have the journal open: every opener holds a shared `flock` on
/// `<journal>-owners`; an operation that needs the journal alone (compaction) takes it exclusively
/// without waiting. `flock` locks vanish with their process, so a kill -9 never leaves one behind.
final class OwnersLock: @unchecked Sendable {
    private var fd: Int32

    static func path(for journalPath: String) -> String { journalPath + "-owners" }

    /// `required: false` (readers only): where the owners file can neither be opened nor created
    /// (a read-only directory, another user's copy), read without it.
    ///
    /// `waitMilliseconds`: how long to keep trying while another holder is letting go. A holder that
    /// has just closed may hold the lock a moment longer: a process forked by any thread of the
    /// closing process (to spawn a program) shares the open file description, and with it the lock,
    /// until that child execs and drops the descriptor. Openers wait this way for a compaction's
    /// exclusive lock, and compaction for openers' shared ones.
    init(journalPath: String, exclusive: Bool, required: Bool = true, waitMilliseconds: Int = 0) throws(JournalError) {
        fd = -1
        let path = OwnersLock.path(for: journalPath)
        do {
            fd = try OwnersLock.openForLocking(path)
        } catch {
            if !required, [ENOENT, EACCES, EROFS].contains(error.code) {
                return  // a reader of a copy it cannot write beside: nobody else can open it to write either
            }
            if error.code == ENOENT { throw .notFound(path: journalPath) }
            throw .io(path: path, error)
        }
        var waited = 0
        while true {
            let locked: Bool
            do { locked = try Syscalls.tryFlock(fd, exclusive: exclusive) } catch {
                release()
                throw .io(path: path, error)
            }
            if locked { return }
            guard waited < waitMilliseconds else {
                release()
                throw exclusive ? .inUse(path: journalPath) : .busy(path: journalPath)
            }
            Syscalls.sleep(microseconds: 10_000)
            waited += 10
        }
    }

    /// Opens (creating it) the owners file, or on a read-only medium opens it to read: readers still lock.
    private static func openForLocking(_ path: String) throws(Syscalls.Errno) -> Int32 {
        do {
            return try Syscalls.open(path, O_RDWR | O_CREAT)
        } catch where error.code == EACCES || error.code == EROFS {
            return try Syscalls.open(path, O_RDONLY)
        }
    }

    /// Claims the right to serve the journal: an open-file-description write lock on byte 0 of the
    /// owners file, which a second service cannot take while this one lives (it vanishes with the
    /// process, like the `flock`). Independent of the shared `flock` every opener holds.
    func claimService(journalPath: String) throws(JournalError) {
        let taken: Bool
        do { taken = try Syscalls.tryOFDWriteLock(fd) } catch { throw .io(path: OwnersLock.path(for: journalPath), error) }
        if !taken { throw .alreadyServed(path: journalPath) }
    }

    /// Claims the right to run an online archive (byte 1 of the owners file, like `claimService`):
    /// one at a time per journal; the claim vanishes with its process, so a killed run's marker is
    /// then known to be left over, not in progress.
    func claimMaintenance(journalPath: String) throws(JournalError) {
        let taken: Bool
        do { taken = try Syscalls.tryOFDWriteLock(fd, byte: 1) } catch { throw .io(path: OwnersLock.path(for: journalPath), error) }
        if !taken { throw .maintenanceRunning(path: journalPath) }
    }

    /// Gives up `claimMaintenance`'s claim.
    func releaseMaintenance() {
        guard fd >= 0 else { return }
        _ = try? Syscalls.tryOFDWriteLock(fd, byte: 1, unlock: true)
    }

    func release() {
        guard fd >= 0 else { return }
        Syscalls.close(fd)
        fd = -1
    }

    deinit { release() }
}
