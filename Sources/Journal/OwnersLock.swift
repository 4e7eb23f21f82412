#if canImport(Glibc)
import Glibc
#endif

/// Tells whether other processes have the journal open: every opener holds a shared `flock` on
/// `<journal>-owners`; an operation that needs the journal alone (compaction) takes it exclusively
/// without waiting. `flock` locks vanish with their process, so a kill -9 never leaves one behind.
final class OwnersLock: @unchecked Sendable {
    private var fd: Int32

    static func path(for journalPath: String) -> String { journalPath + "-owners" }

    init(journalPath: String, exclusive: Bool) throws(JournalError) {
        let path = OwnersLock.path(for: journalPath)
        fd = Glibc.open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        if fd < 0, errno == EACCES || errno == EROFS {
            fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)  // a read-only medium: readers still lock
        }
        guard fd >= 0 else {
            let e = errno
            if e == ENOENT { throw .notFound(path: journalPath) }
            throw .io(path: path, errno: e, detail: String(cString: strerror(e)))
        }
        if flock(fd, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) != 0 {
            let e = errno
            Glibc.close(fd)
            fd = -1
            if e == EWOULDBLOCK { throw exclusive ? .inUse(path: journalPath) : .busy(path: journalPath) }
            throw .io(path: path, errno: e, detail: String(cString: strerror(e)))
        }
    }

    func release() {
        guard fd >= 0 else { return }
        Glibc.close(fd)
        fd = -1
    }

    deinit { release() }
}
