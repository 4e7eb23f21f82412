#if os(Linux) && canImport(Glibc)
import Glibc
#else
// A port needs, in this file: open file description locks (F_OFD_SETLK, 37 on Linux) or another
// per-open lock that is released at close, `fdatasync`, and the errno names; in ConcurrencyKit the
// `pthread_*` calls of its threads and condition lock; and in the LMDB module the page size and
// `madvise` calls.
#error("Logbook runs on Linux only: see the comment above for what a port needs")
#endif

/// Every POSIX call of the Journal module goes through here (swift-system's `Syscalls.swift`): each
/// checks its return code, retries `EINTR` where the call can be interrupted, and reports a failure
/// as an `Errno`. The rest of the module calls these, never the C library directly.
enum Syscalls {
    /// A failed call's `errno`, with the C library's words for it.
    struct Errno: Error, Equatable {
        var code: Int32
        static var current: Errno { Errno(code: Glibc.errno) }
        var message: String { String(cString: strerror(code)) }
        /// What a write gets when the filesystem is full, the user's quota is reached, or the file is
        /// at its size limit.
        static let storageFull: Set<Int32> = [ENOSPC, EDQUOT, EFBIG]
        /// An I/O error (also what LMDB reports for a write cut short).
        static let io: Int32 = EIO
        /// What a write gets from a failing device: an I/O error, or a filesystem the kernel
        /// remounted read-only after one (ext4's `errors=remount-ro`).
        static let deviceFailure: Set<Int32> = [EIO, EROFS]
    }

    // MARK: files

    /// `open(2)`, always close-on-exec (a spawned program must not inherit a journal's locks).
    static func open(_ path: String, _ flags: Int32, mode: mode_t = 0o644) throws(Errno) -> Int32 {
        while true {
            let fd = Glibc.open(path, flags | O_CLOEXEC, mode)
            if fd >= 0 { return fd }
            if errno != EINTR { throw .current }
        }
    }

    /// `close(2)`. Never retried: Linux releases the descriptor even when the call is interrupted,
    /// and a retry could close a descriptor another thread has just been given.
    static func close(_ fd: Int32) { _ = Glibc.close(fd) }

    /// Writes all of `bytes` (`write(2)` until done, through short writes and interruptions).
    static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) throws(Errno) {
        guard let base = bytes.baseAddress else { return }
        var offset = 0
        while offset < bytes.count {
            let n = Glibc.write(fd, base + offset, bytes.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                throw .current
            }
            offset += n
        }
    }

    /// Gives the memory freed to malloc back to the system (`malloc_trim(0)`, every arena). glibc
    /// keeps freed memory in the arena of the thread that freed it, and raises its threshold for
    /// allocating big blocks with mmap after the first is freed: a retention run's plan (megabytes,
    /// freed at its end) would otherwise stay resident, in a new arena each time the run lands on
    /// another thread.
    static func releaseFreedMemory() { _ = mallocTrim?(0) }

    /// glibc's `malloc_trim`, looked up at run time (not in Swift's Glibc module; absent elsewhere).
    private static let mallocTrim: (@convention(c) (Int) -> Int32)? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (Int) -> Int32).self)
    }()

    /// The whole content of the file at `path` (`read(2)` until end of file).
    static func readAll(_ path: String) throws(Errno) -> [UInt8] {
        let fd = try open(path, O_RDONLY)
        defer { close(fd) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .current
            }
            if n == 0 { return out }
            out.append(contentsOf: chunk[..<n])
        }
    }

    /// `fsync(2)` of the file or directory at `path`.
    static func fsync(path: String, directory: Bool) throws(Errno) {
        let fd = try open(path, directory ? O_RDONLY | O_DIRECTORY : O_RDWR)
        defer { close(fd) }
        while Glibc.fsync(fd) != 0 {
            if errno != EINTR { throw .current }
        }
    }

    /// `rename(2)`: atomic within one file system.
    static func rename(_ from: String, to: String) throws(Errno) {
        guard Glibc.rename(from, to) == 0 else { throw .current }
    }

    /// Removes `path` if it is there (`unlink(2)`); for leftovers and discarded copies, where a file
    /// already gone is the wanted outcome.
    static func removeIfPresent(_ path: String) { _ = unlink(path) }

    /// Whether anything is at `path` (`access(2)`, `F_OK`).
    static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    /// `path` with symbolic links, `.` and `..` resolved (`realpath(3)`), or nil.
    static func resolved(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// `stat(2)`.
    static func status(_ path: String) throws(Errno) -> stat {
        var st = stat()
        guard stat(path, &st) == 0 else { throw .current }
        return st
    }

    /// Bytes an unprivileged writer may still use on the filesystem holding `path` (`statvfs(3)`:
    /// available blocks times the fragment size); nil when it cannot be asked.
    static func freeBytes(onFilesystemOf path: String) -> Int? {
        var s = statvfs()
        guard statvfs(path, &s) == 0 else { return nil }
        return Int(s.f_bavail) * Int(s.f_frsize)
    }

    // MARK: locks

    /// `flock(2)` without waiting: false when another open file description holds a conflicting lock.
    static func tryFlock(_ fd: Int32, exclusive: Bool) throws(Errno) -> Bool {
        while flock(fd, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) != 0 {
            switch errno {
            case EINTR: continue
            case EWOULDBLOCK: return false
            default: throw .current
            }
        }
        return true
    }

    /// An open-file-description write lock on one byte (`F_OFD_SETLK`, Linux 3.15+), without
    /// waiting: false when another holder has it. It lives as long as the description, like a
    /// `flock`, or until `ofdUnlock`.
    static func tryOFDWriteLock(_ fd: Int32, byte: Int = 0, unlock: Bool = false) throws(Errno) -> Bool {
        var lock = Glibc.flock()
        lock.l_type = Int16(unlock ? F_UNLCK : F_WRLCK)
        lock.l_whence = Int16(SEEK_SET)
        lock.l_start = off_t(byte)
        lock.l_len = 1
        let fOFDSetLock: Int32 = 37  // F_OFD_SETLK, not exported to Swift by Glibc
        while fcntl(fd, fOFDSetLock, &lock) != 0 {
            switch errno {
            case EINTR: continue
            case EAGAIN, EACCES: return false
            default: throw .current
            }
        }
        return true
    }

    // MARK: time

    /// Sleeps the calling thread for `microseconds` (for loops that poll a lock between tries).
    static func sleep(microseconds: UInt32) { _ = usleep(microseconds) }

    /// The system's wall clock, in microseconds since 1970 (`CLOCK_REALTIME`).
    static func wallClockMicroseconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1_000_000 + Int64(ts.tv_nsec) / 1000
    }

}

extension Syscalls {
    /// `link(2)`: `path` under a second name, failing (never overwriting) when that name exists.
    static func link(_ path: String, as name: String) throws(Errno) {
        guard Glibc.link(path, name) == 0 else { throw .current }
    }

    /// `chown(2)`.
    static func changeOwner(of path: String, user: uid_t, group: gid_t) throws(Errno) {
        guard chown(path, user, group) == 0 else { throw .current }
    }

    /// `chmod(2)`.
    static func changeMode(of path: String, to mode: mode_t) throws(Errno) {
        guard chmod(path, mode) == 0 else { throw .current }
    }
}

extension JournalError {
    /// A failed system call on `path`, in the C library's words (after `what`, when given).
    static func io(path: String, _ failure: Syscalls.Errno, _ what: String? = nil) -> JournalError {
        .io(path: path, errno: failure.code, detail: what.map { "\($0): \(failure.message)" } ?? failure.message)
    }
}
