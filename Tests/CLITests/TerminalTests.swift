import Foundation
import JobTimeline
import TestSupport
import Testing

/// The CLI in a real terminal (tmux): width, colour, and shell completion, as an operator sees them.
@Suite(.enabled(if: Tmux.available)) struct TerminalTests {
    static let job = "download-with-a-rather-long-name-7"

    /// `tail` in an 80-column terminal beside a second process that appends: every line fits (the job
    /// id gives way first, then the verdict), IGNORED is red and a deciding event bold.
    @Test func tailInANarrowTerminalFitsEveryLineAndColoursTheVerdicts() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        try cli.ok(["append", "--job", Self.job, "--type", "started", "--node", "n1", "--attempt", "1"])
        let tmux = try Tmux(
            columns: 80, rows: 20, directory: cli.dir,
            command: "\(builtExecutable("logbook")) --journal \(cli.journal) tail --after 0")
        defer { tmux.stop() }
        _ = try tmux.waitForScreen { $0.contains { $0.hasPrefix("1  ") } }
        // Appended by another process while tail follows.
        try cli.ok(["cancel", Self.job, "--reason", "user"])
        try cli.ok(["append", "--job", Self.job, "--type", "heartbeat", "--attempt", "1"])
        let screen = try tmux.waitForScreen { $0.contains { $0.hasPrefix("3  ") } }
        #expect(screen.count == 3, "\(screen)")
        #expect(screen.allSatisfy { $0.displayWidth <= 80 }, "\(screen)")
        #expect(screen[1].hasSuffix("  download-with-a-r…  cancelled: user  decides: cancelled"), "\(screen[1])")
        #expect(screen[2].hasSuffix("  download-wi…  heartbeat (attempt 1)  IGNORED: heartbea…"),
            "the job id, then the verdict are cut, not wrapped: \(screen[2])")
        let coloured = try tmux.screen(escapes: true).joined(separator: "\n")
        #expect(coloured.contains("\u{1B}[31mIGNORED"), "\(coloured.debugDescription)")
        #expect(coloured.contains("\u{1B}[1mdecides: cancelled"), "\(coloured.debugDescription)")
    }

    /// `stop()` ends the terminal's server and what runs in it: a test leaves no process behind.
    /// (Spawned with the test runner's blocked signals, the server ignored `kill-server`, and every
    /// `tail` these tests start ran on.)
    @Test func aStoppedTerminalLeavesNothingRunning() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        let tmux = try Tmux(columns: 40, rows: 5, directory: cli.dir, command: "echo ready")
        _ = try tmux.waitForScreen { $0.contains("ready") }
        let server = try tmux.serverPID()
        #expect(Tmux.isAlive(server))
        tmux.stop()
        let deadline = Date().addingTimeInterval(patientSeconds)
        while Tmux.isAlive(server) && Date() < deadline { usleep(20_000) }
        #expect(!Tmux.isAlive(server), "tmux server \(server) still runs after stop()")
    }

    @Test func noColorMeansNoColourInATerminalToo() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        try cli.ok(["append", "--job", "j", "--type", "completed"])
        try cli.ok(["append", "--job", "j", "--type", "heartbeat"])
        let tmux = try Tmux(
            columns: 100, rows: 10, directory: cli.dir,
            command: "\(builtExecutable("logbook")) --journal \(cli.journal) tail --after 0", environment: ["NO_COLOR": "1"])
        defer { tmux.stop() }
        let screen = try tmux.waitForScreen { $0.contains { $0.hasPrefix("2  ") } }
        #expect(screen[1].contains("IGNORED: heartbeat after completed at seq 1"))
        #expect(!(try tmux.screen(escapes: true).joined().contains("\u{1B}[")))
    }

    /// The bash completion `make install` installs (the binary's own script) completes subcommands,
    /// options and the typed choices, in an interactive bash.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/bin/bash")))
    func bashCompletionCompletesCommandsOptionsAndStatuses() throws {
        let dir = TemporaryDirectory("completion")
        defer { dir.cleanup() }
        let script = try run(builtExecutable("logbook"), ["--generate-completion-script", "bash"])
        #expect(script.status == 0)
        try script.stdout.write(toFile: dir.file("logbook.bash"), atomically: true, encoding: .utf8)
        let bin = (builtExecutable("logbook") as NSString).deletingLastPathComponent
        let tmux = try Tmux(
            columns: 120, rows: 20, directory: dir,
            command: "PATH=\(bin):$PATH PS1='$ ' exec bash --norc --noprofile -i")
        defer { tmux.stop() }
        // Type only at a prompt: keys sent while bash is busy echo before its prompt (CI, 2026-12-02:
        // "logbook arch    $ logbook archive").
        func atPrompt(_ lines: [String]) -> Bool { lines.last?.trimmingCharacters(in: .whitespaces) == "$" }
        _ = try tmux.waitForScreen(atPrompt)
        try tmux.send(["source \(dir.file("logbook.bash"))", "Enter"])
        _ = try tmux.waitForScreen { atPrompt($0) && $0.contains { $0.hasPrefix("$ source ") } }
        try tmux.send(["logbook arch", "Tab"])
        _ = try tmux.waitForScreen { $0.last == "$ logbook archive" }
        try tmux.send(["--finalized-b", "Tab"])  // completion added the space
        _ = try tmux.waitForScreen { $0.last == "$ logbook archive --finalized-before" }
        try tmux.send(["C-u", "logbook jobs --status ", "Tab", "Tab"])
        let screen = try tmux.waitForScreen { $0.contains { $0.contains("cancelled") && $0.contains("interrupted") } }
        #expect(screen.contains { $0.contains("completed") && $0.contains("running") && $0.contains("pending") })
    }
}
