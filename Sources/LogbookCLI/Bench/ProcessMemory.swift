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
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return m }
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ", omittingEmptySubsequences: true)
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
