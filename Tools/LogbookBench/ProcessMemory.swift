import Foundation

/// Resident memory of this process from /proc/self/status, in bytes.
///
/// `anonymous` is what the process allocated (heap, stacks); `file` is pages of mapped files (the
/// LMDB map) that are resident: page cache the kernel can drop, shared with other processes.
struct ProcessMemory {
    var resident = 0
    var anonymous = 0
    var file = 0
    var peak = 0

    static func now() -> ProcessMemory {
        var m = ProcessMemory()
        // /proc files report size 0, so read them as a stream rather than by their size.
        let fd = open("/proc/self/status", O_RDONLY)
        guard fd >= 0 else { return m }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            bytes.append(contentsOf: chunk[..<n])
        }
        let text = String(decoding: bytes, as: UTF8.self)
        for line in text.split(separator: "\n") {
            let parts = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard parts.count >= 2, let kib = Int(parts[1]) else { continue }
            switch parts[0] {
            case "VmRSS:": m.resident = kib * 1024
            case "RssAnon:": m.anonymous = kib * 1024
            case "RssFile:": m.file = kib * 1024
            case "VmHWM:": m.peak = kib * 1024
            default: break
            }
        }
        return m
    }
}
