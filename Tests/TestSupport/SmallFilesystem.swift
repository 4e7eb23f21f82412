import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A real filesystem of a fixed size (a tmpfs the test mounts, as root), for tests of a full disk.
/// `SmallFilesystem.available` is false where mounting is not allowed (not root, no CAP_SYS_ADMIN):
/// such tests are skipped, and say so.
public final class SmallFilesystem: @unchecked Sendable {
    public let directory: TemporaryDirectory
    public var path: String { directory.path }

    /// Mounts a tmpfs of `mebibytes` MiB on a new directory.
    public init?(mebibytes: Int) {
        directory = TemporaryDirectory("small-fs")
        let status = (try? run("/bin/mount", ["-t", "tmpfs", "-o", "size=\(mebibytes)m,mode=1777", "tmpfs", directory.path]))?.status
        guard status == 0 else {
            directory.cleanup()
            return nil
        }
    }

    /// Whether this machine lets a test mount one (checked once, by mounting one).
    public static let available: Bool = getuid() == 0 && SmallFilesystem(mebibytes: 1).map { $0.unmount() } != nil

    public func file(_ name: String) -> String { directory.file(name) }

    /// Takes `mebibytes` MiB with a file of zeros (the "other data" an operator then deletes).
    public func fill(_ name: String, mebibytes: Int) throws {
        guard FileManager.default.createFile(atPath: file(name), contents: nil),
            let handle = FileHandle(forWritingAtPath: file(name))
        else { throw CocoaError(.fileWriteUnknown) }
        defer { try? handle.close() }
        let chunk = Data(count: 1 << 20)
        for _ in 0..<mebibytes { try handle.write(contentsOf: chunk) }
    }

    /// Takes every byte still free with a file of zeros.
    public func fillUp(_ name: String) {
        guard FileManager.default.createFile(atPath: file(name), contents: nil), let handle = FileHandle(forWritingAtPath: file(name))
        else { return }
        defer { try? handle.close() }
        let chunk = Data(count: 1 << 14)
        while (try? handle.write(contentsOf: chunk)) != nil, freeBytes > 0 {}
    }

    /// Bytes still free.
    public var freeBytes: Int {
        var s = statvfs()
        guard statvfs(path, &s) == 0 else { return 0 }
        return Int(s.f_bavail) * Int(s.f_frsize)
    }

    public func unmount() {
        _ = try? run("/bin/umount", ["-l", directory.path])
        directory.cleanup()
    }
}
