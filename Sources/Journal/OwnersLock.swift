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
        fd = Glibc.open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        if fd < 0, errno == EACCES || errno == EROFS {
            fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)  // a read-only medium: readers still lock
        }
        if fd < 0, !required, errno == ENOENT || errno == EACCES || errno == EROFS {
            return  // a reader of a copy it cannot write beside: nobody else can open it to write either
        }
        guard fd >= 0 else {
            let e = errno
            if e == ENOENT { throw .notFound(path: journalPath) }
            throw .io(path: path, errno: e, detail: String(cString: strerror(e)))
        }
        var waited = 0
        while flock(fd, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) != 0 {
            let e = errno
            if e == EWOULDBLOCK && waited < waitMilliseconds {
                usleep(10_000)
                waited += 10
                continue
            }
            Glibc.close(fd)
            fd = -1
            if e == EWOULDBLOCK { throw exclusive ? .inUse(path: journalPath) : .busy(path: journalPath) }
            throw .io(path: path, errno: e, detail: String(cString: strerror(e)))
        }
    }

    /// Claims the right to serve the journal: an open-file-description write lock on byte 0 of the
    /// owners file, which a second service cannot take while this one lives (it vanishes with the
    /// process, like the `flock`). Independent of the shared `flock` every opener holds.
    func claimService(journalPath: String) throws(JournalError) {
        var lock = Glibc.flock()
        lock.l_type = Int16(F_WRLCK)
        lock.l_whence = Int16(SEEK_SET)
        lock.l_start = 0
        lock.l_len = 1
        let fOFDSetLock: Int32 = 37  // F_OFD_SETLK (Linux 3.15+), not exported to Swift by Glibc
        if fcntl(fd, fOFDSetLock, &lock) != 0 {
            let e = errno
            if e == EAGAIN || e == EACCES { throw .alreadyServed(path: journalPath) }
            throw .io(path: OwnersLock.path(for: journalPath), errno: e, detail: String(cString: strerror(e)))
        }
    }

    func release() {
        guard fd >= 0 else { return }
        Glibc.close(fd)
        fd = -1
    }

    deinit { release() }
}
