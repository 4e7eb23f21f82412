import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A real terminal for tests: a detached tmux session on a private socket, of a fixed size, running
/// one command; its screen is read back with `capture-pane` (with `-e`, including colour codes).
/// The session and its server end with `stop()`.
public final class Tmux: @unchecked Sendable {
    public static var available: Bool { FileManager.default.isExecutableFile(atPath: "/usr/bin/tmux") }

    private let socket: String

    /// Starts `command` (run by `sh -c`) in a `columns` × `rows` terminal with TERM=xterm-256color and
    /// without NO_COLOR (the test environment sets it); `environment` is added.
    public init(columns: Int, rows: Int, directory: TemporaryDirectory, command: String, environment: [String: String] = [:]) throws {
        socket = directory.file("tmux-\(UUID().uuidString.prefix(8)).sock")
        var exports = "unset NO_COLOR; export TERM=xterm-256color"
        for (k, v) in environment.sorted(by: { $0.key < $1.key }) { exports += "; export \(k)='\(v)'" }
        // The server this starts outlives the call: it must inherit nothing (Foundation's Process
        // would wait for it through an inherited socket; another test's pipe would never close).
        let status = spawnWithoutInheritance(
            "/usr/bin/tmux",
            ["-S", socket, "-f", "/dev/null", "new-session", "-d", "-x", String(columns), "-y", String(rows),
             "sh", "-c", "\(exports); \(command); sleep 600"])
        guard status == 0 else { throw TmuxError(detail: "tmux new-session failed (status \(status))") }
    }

    /// The screen's lines without trailing spaces, trailing blank lines dropped; with `escapes`,
    /// colour codes included.
    public func screen(escapes: Bool = false) throws -> [String] {
        let out = try run("/usr/bin/tmux", ["-S", socket, "capture-pane", "-p"] + (escapes ? ["-e"] : []))
        var lines = out.stdout.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            String(line.reversed().drop { $0 == " " }.reversed())  // a typed space stays: drop it here
        }
        while lines.last?.trimmingCharacters(in: .whitespaces).isEmpty == true { lines.removeLast() }
        return lines
    }

    /// Types `keys` (tmux key names such as `Tab` and `Enter` are keys, other words are text).
    public func send(_ keys: [String]) throws {
        _ = try run("/usr/bin/tmux", ["-S", socket, "send-keys", "--"] + keys)  // "--": keys may start with "-"
    }

    /// Waits (patiently: the machine may be loaded) until the screen satisfies `condition`.
    public func waitForScreen(
        within seconds: Double = patientSeconds, _ condition: ([String]) -> Bool
    ) throws -> [String] {
        let deadline = Date().addingTimeInterval(seconds)
        var last: [String] = []
        while Date() < deadline {
            last = try screen()
            if condition(last) { return last }
            usleep(50_000)
        }
        throw TmuxError(detail: "the screen never matched; it shows:\n" + last.joined(separator: "\n"))
    }

    public func stop() {
        _ = try? run("/usr/bin/tmux", ["-S", socket, "kill-server"])
        unlink(socket)
    }

    /// The process id of the session's server.
    public func serverPID() throws -> pid_t {
        let out = try run("/usr/bin/tmux", ["-S", socket, "display-message", "-p", "#{pid}"])
        guard out.status == 0, let pid = pid_t(out.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw TmuxError(detail: "no server pid: \(out.stderr)")
        }
        return pid
    }

    /// Whether process `pid` is alive (not gone, not a zombie).
    public static func isAlive(_ pid: pid_t) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return false }
        return stat[stat.index(close, offsetBy: 2)] != "Z"
    }

    public struct TmuxError: Error, CustomStringConvertible {
        public var detail: String
        public var description: String { detail }
    }
}
