import Foundation
import TestSupport
import Testing

/// `logbook timeline` against golden files (Tests/CLITests/Golden): the four seed incidents of
/// `logbook demo` and the zombie-fencing scenario. `LOGBOOK_RECORD_GOLDEN=1 swift test --filter
/// TimelineGoldenTests` rewrites them after a deliberate change; review the diff.
@Suite struct TimelineGoldenTests {
    static let golden = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")

    /// A run of the reaper's story: node-a's attempt goes silent, is reaped and resumed on node-b,
    /// and node-a's zombie goes on writing; node-b completes.
    static let zombie = """
        {"job":"render-5","type":"created","at":"2026-06-03T10:00:00Z"}
        {"job":"render-5","type":"started","at":"2026-06-03T10:00:01Z","node":"node-a","attempt":1}
        {"job":"render-5","type":"heartbeat","at":"2026-06-03T10:00:31Z","attempt":1}
        {"job":"render-5","type":"heartbeat","at":"2026-06-03T10:01:01Z","attempt":1}
        {"job":"render-5","type":"heartbeat","at":"2026-06-03T10:01:31Z","attempt":1}
        {"job":"render-5","type":"interrupted","at":"2026-06-03T10:04:00Z","reason":"leaseExpired","attempt":1}
        {"job":"render-5","type":"resumed","at":"2026-06-03T10:04:05Z","node":"node-b","attempt":2}
        {"job":"render-5","type":"heartbeat","at":"2026-06-03T10:04:35Z","attempt":2}
        {"job":"render-5","type":"progress","at":"2026-06-03T10:04:40Z","index":17,"attempt":1}
        {"job":"render-5","type":"heartbeat","at":"2026-06-03T10:05:05Z","attempt":2}
        {"job":"render-5","type":"heartbeat","at":"2026-06-03T10:05:10Z","attempt":1}
        {"job":"render-5","type":"heartbeat","at":"2026-06-03T10:05:35Z","attempt":2}
        {"job":"render-5","type":"completed","at":"2026-06-03T10:06:00Z","attempt":2}
        {"job":"render-5","type":"completed","at":"2026-06-03T10:06:02Z","attempt":1}
        {"job":"render-5","type":"finalized","at":"2026-06-03T10:06:03Z"}

        """

    /// One journal with the demo's incidents and the zombie scenario.
    static func journal() throws -> CLI {
        let cli = CLI()
        _ = try cli.ok(["demo"])
        _ = try cli.ok(["ingest", try cli.write("zombie.jsonl", zombie)])
        return cli
    }

    func check(_ name: String, _ output: String) throws {
        let file = Self.golden.appendingPathComponent(name)
        if ProcessInfo.processInfo.environment["LOGBOOK_RECORD_GOLDEN"] == "1" {
            try FileManager.default.createDirectory(at: Self.golden, withIntermediateDirectories: true)
            try output.write(to: file, atomically: true, encoding: .utf8)
            return
        }
        let expected = try String(contentsOf: file, encoding: .utf8)
        #expect(output == expected, "\(name) differs from its golden file; rerun with LOGBOOK_RECORD_GOLDEN=1 if the change is meant")
    }

    @Test(arguments: ["scan-3", "task-42", "crawl-hc-6", "download-7", "render-5"])
    func theTimelineOfEachIncidentMatchesItsGoldenFile(job: String) throws {
        let cli = try Self.journal()
        defer { cli.cleanup() }
        try check("timeline-\(job)-100.txt", try cli.ok(["timeline", job, "--width", "100", "--color", "never"]))
        try check("timeline-\(job)-80-ascii.txt", try cli.ok(["timeline", job, "--width", "80", "--ascii", "--color", "never"]))
    }

    @Test(arguments: ["scan-3", "download-7"])
    func theHTMLFileMatchesItsGoldenFile(job: String) throws {
        let cli = try Self.journal()
        defer { cli.cleanup() }
        let file = cli.dir.file("\(job).html")
        let said = try cli.ok(["timeline", job, "--html", file])
        #expect(said.hasPrefix("wrote the timeline of \(job) to \(file)"))
        try check("timeline-\(job).html", try String(contentsOfFile: file, encoding: .utf8))
        // Byte for byte the same on a second run.
        _ = try cli.ok(["timeline", job, "--html", file + ".2"])
        #expect(FileManager.default.contentsEqual(atPath: file, andPath: file + ".2"))
        let unwritable = try cli.run(["timeline", job, "--html", "/nonexistent-dir/x.html"])
        #expect(unwritable.status != 0 && unwritable.stderr.contains("--html: cannot write /nonexistent-dir/x.html"))
    }

    @Test func everyLineFitsTheWidthAndAsciiMeansAscii() throws {
        let cli = try Self.journal()
        defer { cli.cleanup() }
        for width in [40, 80, 160] {
            for job in ["scan-3", "download-7", "render-5"] {
                let out = try cli.ok(["timeline", job, "--width", "\(width)", "--color", "never"])
                for line in out.split(separator: "\n") {
                    #expect(line.count <= width, "\(job) at \(width): \(line)")
                }
                let ascii = try cli.ok(["timeline", job, "--width", "\(width)", "--ascii", "--color", "never"])
                // Job data may hold any text; the demo's is ASCII, so the drawing must be too.
                let allASCII = ascii.unicodeScalars.allSatisfy { $0.isASCII }
                #expect(allASCII, "\(job) at \(width)")
            }
        }
    }

    @Test func colourOnlyWhenAskedAndNeverUnderNoColor() throws {
        let cli = try Self.journal()
        defer { cli.cleanup() }
        let coloured = try cli.ok(["timeline", "scan-3", "--color", "always"])
        #expect(coloured.contains("\u{1B}["))
        #expect(!(try cli.ok(["timeline", "scan-3"]).contains("\u{1B}[")))  // auto, and stdout is a pipe
        #expect(!(try cli.ok(["timeline", "scan-3", "--color", "never"]).contains("\u{1B}[")))
    }

    @Test func timeTravelAndBadInput() throws {
        let cli = try Self.journal()
        defer { cli.cleanup() }
        let before = try cli.ok(["timeline", "scan-3", "--until-seq", "3", "--color", "never"])
        #expect(before.hasPrefix("scan-3 · running · 3 events"))
        let at = try cli.ok(["timeline", "scan-3", "--at", "2026-06-01T08:25:00Z", "--color", "never"])
        #expect(at.hasPrefix("scan-3 · cancelled · decided at seq 4"))
        #expect(at.contains("2026-06-01 08:25:00Z"))  // the axis ends at --at
        let missing = try cli.run(["timeline", "nope"])
        #expect(missing.status == 1 && missing.stderr.contains("no such job: nope"))
        let narrow = try cli.run(["timeline", "scan-3", "--width", "10"])
        #expect(narrow.status != 0 && narrow.stderr.contains("--width"))
        let both = try cli.run(["timeline", "scan-3", "--at", "2026-06-01T08:25:00Z", "--until-seq", "2"])
        #expect(both.status != 0 && both.stderr.contains("not both"))
    }

    @Test func aHostileJobIdIsShownAsEscapedText() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        let id = "evil\u{1B}[2J\u{202E}<img src=x onerror=alert(1)>"
        _ = try cli.ok(["append", "--job", id, "--type", "started", "--node", "n\u{1B}]0;pwned\u{07}", "--attempt", "1"])
        let out = try cli.ok(["timeline", id, "--color", "never"])
        #expect(!out.unicodeScalars.contains { $0 == "\u{1B}" || $0 == "\u{202E}" || $0 == "\u{07}" })
        #expect(out.contains(#"evil\e[2J\u{202E}<img src=x onerror=alert(1)>"#))
        // In the HTML file it is text, never markup.
        let file = cli.dir.file("evil.html")
        _ = try cli.ok(["timeline", id, "--html", file])
        let html = try String(contentsOfFile: file, encoding: .utf8)
        #expect(!html.contains("<img") && html.contains("&lt;img src=x onerror=alert(1)&gt;"))
    }
}

/// The timeline on a real terminal: `script` gives the command a pseudo-terminal of a set size, so
/// the width comes from the terminal itself (TIOCGWINSZ) and colour turns on by itself, unless
/// NO_COLOR is set. (`Tools/timeline/tmux-check.sh` does the same under tmux, by hand.)
@Suite(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/script"))) struct TimelineOnATerminalTests {
    func screen(columns: Int, noColor: Bool) throws -> String {
        let cli = try TimelineGoldenTests.journal()
        defer { cli.cleanup() }
        let env = noColor ? "NO_COLOR=1" : "env -u NO_COLOR -u COLUMNS"
        let command = "stty cols \(columns) rows 50; \(env) \(builtExecutable("logbook")) --journal \(cli.journal) timeline scan-3"
        let out = try run("/usr/bin/script", ["-qec", command, "/dev/null"])
        #expect(out.status == 0, "\(out.stderr)")
        return out.stdout.replacing("\r\n", with: "\n")
    }

    @Test(arguments: [80, 160])
    func itFitsTheTerminalAndColoursIt(columns: Int) throws {
        let out = try screen(columns: columns, noColor: false)
        #expect(out.contains("scan-3"))
        #expect(out.contains("\u{1B}["), "no colour on a terminal")
        let plain = out.replacing(/\x1B\[[0-9;]*m/, with: "")
        let lines = plain.split(separator: "\n")
        #expect(lines.allSatisfy { $0.count <= columns })
        // It used the width it was given: the axis row reaches the last columns.
        #expect(lines.contains { $0.count >= columns - 2 })
    }

    @Test func noColorTurnsColourOffOnATerminalToo() throws {
        let out = try screen(columns: 100, noColor: true)
        #expect(out.contains("scan-3") && !out.contains("\u{1B}["))
    }
}
