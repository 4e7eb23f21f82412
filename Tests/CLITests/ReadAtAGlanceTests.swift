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

@Suite struct ProgressBarTests {
    /// On a terminal, a big ingest shows a bar that counts events while parsing and while committing;
    /// to a pipe it shows none.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/script")))
    func ingestCountsEventsThroughParseAndCommit() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        let n = 150_000
        var text = ""
        text.reserveCapacity(n * 80)
        for i in 0..<n { text += #"{"job":"j\#(i % 1000)","type":"heartbeat","at":"2026-06-01T00:00:00Z","index":\#(i),"data":{"pad":"xxxxxxxxxx"}}"# + "\n" }
        let file = try cli.write("big.jsonl", text)
        let command = "\(builtExecutable("logbook")) --journal \(cli.journal) ingest \(file)"
        let out = try run("/usr/bin/script", ["-qec", command, "/dev/null"]).stdout
        #expect(out.contains("parsing "), "\(out.suffix(300))")
        #expect(out.contains("/\(n + 1) events)"), "parsing counts events against the lines")
        #expect(out.contains("committing ") && out.contains("(\(n)/\(n) events)"), "\(out.suffix(300))")
        #expect(out.contains("appended \(n) events: seq 1...\(n)"))
        // To a pipe: no bar, only the result.
        let piped = try cli.run(["ingest", file])
        #expect(piped.stderr.isEmpty && piped.stdout == "appended \(n) events: seq \(n + 1)...\(2 * n)\n")
    }
}

@Suite struct ReplayRowsTests {
    /// crawl-hc-6 of the demo: a zombie's progress, then five heartbeats of attempt 2.
    static func demo() throws -> CLI {
        let cli = CLI()
        _ = try cli.ok(["demo"])
        return cli
    }

    @Test func heartbeatsCollapseIntoRunsAndAZombieShowsTheAttemptItNamed() throws {
        let cli = try Self.demo()
        defer { cli.cleanup() }
        let rows = try cli.ok(["replay", "crawl-hc-6"]).split(separator: "\n")
        #expect(rows.count == 8)  // header, 6 events, one run of 5 heartbeats
        #expect(rows.last?.hasPrefix("20-24  2026-06-01T12:31:00Z  heartbeat ×5 over 20h") == true)
        #expect(rows.contains { $0.contains("1 (now 2)") && $0.contains("⚠ progress from attempt 1 while attempt 2 runs on vps: ignored") })
        #expect(rows.contains { $0.contains("interrupted") && $0.contains("worker restart") })  // the reason column
        #expect(try cli.ok(["replay", "crawl-hc-6", "--all"]).split(separator: "\n").count == 12)
    }

    @Test func anomaliesOnlyAndTailNarrowTheRowsInTextAndJSON() throws {
        let cli = try Self.demo()
        defer { cli.cleanup() }
        let anomalies = try cli.ok(["replay", "scan-3", "--anomalies-only"]).split(separator: "\n")
        #expect(anomalies.count == 5 && anomalies.dropFirst().allSatisfy { $0.contains("⚠") })
        let last = try cli.ok(["replay", "scan-3", "--tail", "1"]).split(separator: "\n")
        #expect(last.count == 2 && last[1].hasPrefix("8 "))
        let json = try cli.ok(["replay", "scan-3", "--anomalies-only", "--tail", "2", "--json"]).split(separator: "\n")
        #expect(json.count == 2 && json.allSatisfy { $0.contains(#""effect":"ignored""#) } && json[1].contains(#""seq":8"#))
        let zero = try cli.run(["replay", "scan-3", "--tail", "0"])
        #expect(zero.status != 0 && zero.stderr.contains("--tail"))
    }
}

@Suite struct RelativeTimeTests {
    @Test func timeOptionsAcceptNowAndADurationAgo() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        _ = try cli.ok(["append", "--job", "j", "--type", "started", "--node", "n", "--attempt", "1"])
        #expect(try cli.ok(["status", "j", "--at", "now", "--json"]) == (try cli.ok(["status", "j", "--json"])))
        // Ten years ago the job had no events yet.
        let past = try cli.run(["status", "j", "--at", "3650d-ago"])
        #expect(past.status == 1 && past.stderr.contains("no such job: j"))
        // `--now` takes the relative form too ("0s-ago" is now): nothing has been silent for an hour.
        #expect(try cli.ok(["jobs", "--silent-for", "1h", "--now", "0s-ago", "--json"]) == "[]\n")
        let bad = try cli.run(["status", "j", "--at", "2x-ago"])
        #expect(bad.status == 64 && bad.stderr.contains("The value '2x-ago' is invalid for '--at <at>'"))
    }
}

@Suite struct ExplainTests {
    /// A zombie's run of heartbeats after the reaper interrupted its attempt, then a cancel.
    static let lines = """
        {"job":"dl","type":"started","at":"2026-06-01T10:00:00Z","node":"a","attempt":1}
        {"job":"dl","type":"interrupted","at":"2026-06-01T10:05:00Z","reason":"leaseExpired","attempt":1}
        {"job":"dl","type":"resumed","at":"2026-06-01T10:06:00Z","node":"b","attempt":2}
        {"job":"dl","type":"heartbeat","at":"2026-06-01T10:07:00Z","attempt":1}
        {"job":"dl","type":"heartbeat","at":"2026-06-01T10:08:00Z","attempt":1}
        {"job":"dl","type":"heartbeat","at":"2026-06-01T10:09:00Z","attempt":1}
        {"job":"dl","type":"interrupted","at":"2026-06-01T10:10:00Z","reason":"shutdown","node":"b","attempt":2}
        {"job":"dl","type":"cancelled","at":"2026-06-01T10:11:00Z","reason":"cancelled by user"}
        {"job":"dl","type":"heartbeat","at":"2026-06-01T10:12:00Z","attempt":2}

        """

    @Test func explainNamesEveryInterruptionAndCollapsesRepeatedIgnoredEvents() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        try cli.ok(["ingest", "-"], stdin: Self.lines)
        let text = try cli.ok(["explain", "dl"]).split(separator: "\n").map(String.init)
        #expect(text.contains("Interruptions:"))
        #expect(text.contains(#"  seq 2 (2026-06-01T10:05:00Z): attempt 1 interrupted, reason "leaseExpired" (by the reaper: no heartbeat within the lease)"#))
        #expect(text.contains(#"  seq 7 (2026-06-01T10:10:00Z): attempt 2 interrupted, reason "shutdown" (by b)"#))
        #expect(text.contains("Ignored events (4), kept in the journal as evidence:"))
        #expect(text.contains("  seq 4 … seq 6 (3 times): heartbeat from attempt 1 while attempt 2 runs on b: ignored"), "\(text)")
        #expect(text.contains("  seq 9: heartbeat after cancelled at seq 8: ignored"))
    }

    @Test func explainJSONCarriesTheSameFactsAsData() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        try cli.ok(["ingest", "-"], stdin: Self.lines)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(cli.ok(["explain", "dl", "--json"]).utf8)) as? [String: Any])
        #expect(object["job"] as? String == "dl" && object["events"] as? Int == 9 && object["ignoredCount"] as? Int == 4)
        #expect((object["state"] as? [String: Any])?["status"] as? String == "cancelled")
        let decided = try #require(object["decided"] as? [String: Any])
        #expect(decided["seq"] as? Int == 8 && decided["reason"] as? String == "cancelled by user")
        let interruptions = try #require(object["interruptions"] as? [[String: Any]])
        #expect(interruptions.map { $0["seq"] as? Int } == [2, 7])
        #expect(interruptions[0]["meaning"] as? String == "by the reaper: no heartbeat within the lease")
        let ignored = try #require(object["ignored"] as? [[String: Any]])
        #expect(ignored.map { $0["count"] as? Int } == [3, 1])
        #expect(ignored[0]["seqs"] as? [Int] == [4, 5, 6])
        let text = try #require(object["text"] as? [String])
        #expect(text == (try cli.ok(["explain", "dl"])).split(separator: "\n").map(String.init))
        #expect(try cli.run(["explain", "nope", "--json"]).status == 1)
    }
}
