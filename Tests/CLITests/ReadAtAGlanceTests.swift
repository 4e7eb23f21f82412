import Foundation
import TestSupport
import Testing

/// Human output for an on-call engineer: ages relative to now, statuses in colour on a terminal,
/// tables that fit it, and "nothing matched" where `| wc -l` does not count it.
@Suite struct ReadAtAGlanceTests {
    @Test func jobsShowAgesRelativeToNowAndSayNoMatchOnStderr() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        _ = try cli.ok(["append", "--job", "crawl", "--type", "started", "--node", "vps", "--attempt", "1", "--at", "2026-06-01T10:00:00Z"])
        let table = try cli.ok(["jobs", "--now", "2026-06-02T12:00:00Z"])
        #expect(table.contains("26h ago (2026-06-01 10:00:00Z)"))
        let none = try cli.run(["jobs", "--status", "failed"])
        #expect(none.status == 0 && none.stdout.isEmpty && none.stderr == "no matching jobs\n")
        let status = try cli.ok(["status", "crawl"])
        #expect(status.contains("attempt started: 2026-06-01T10:00:00Z (") && status.contains(" ago)"))
    }

    @Test func statusesAreColouredOnlyWhenAsked() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        _ = try cli.ok(["append", "--job", "a", "--type", "cancelled"])
        #expect(try cli.ok(["jobs", "--color", "always"]).contains("\u{1B}[31mcancelled"))
        #expect(try cli.ok(["status", "a", "--color", "always"]).contains("\u{1B}[31mcancelled\u{1B}[0m (terminal, not finalized)"))
        #expect(!(try cli.ok(["jobs"]).contains("\u{1B}[")))  // auto, and stdout is a pipe
        #expect(!(try cli.ok(["status", "a", "--color", "never"]).contains("\u{1B}[")))
        // A job id with an escape is shown escaped even when the status is coloured.
        _ = try cli.ok(["append", "--job", "x\u{1B}[2J", "--type", "failed"])
        let coloured = try cli.ok(["status", "x\u{1B}[2J", "--color", "always"])
        #expect(coloured.contains(#"x\e[2J"#) && !coloured.contains("\u{1B}[2J"))
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/script")))
    func onANarrowTerminalTheTableFitsAndTheJobColumnGivesWayLast() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        _ = try cli.ok(["append", "--job", "download-7", "--type", "started", "--node", "worker-with-a-long-name", "--attempt", "1"])
        let command = "stty cols 70 rows 20; NO_COLOR=1 \(builtExecutable("logbook")) --journal \(cli.journal) jobs"
        let out = try run("/usr/bin/script", ["-qec", command, "/dev/null"]).stdout.replacing("\r\n", with: "\n")
        let lines = out.split(separator: "\n").filter { !$0.isEmpty }
        #expect(lines.count == 2)
        #expect(lines.allSatisfy { $0.count <= 70 }, "\(lines)")
        // Every other column shrinks to its narrowest (6) before the job's does.
        #expect(lines[1].hasPrefix("download-7  running") && lines[1].contains("worker…"))
        // To a pipe, nothing is cut.
        #expect(try cli.ok(["jobs"]).contains("worker-with-a-long-name"))
    }
}
