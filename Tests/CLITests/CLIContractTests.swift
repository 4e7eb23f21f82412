import Foundation
import TestSupport
import Testing

@Suite struct CLIContractTests {
    @Test func aFinalizationClaimShowsInStatusExplainAndJSON() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        let file = try cli.write("in.jsonl", """
            {"job":"task-9","type":"started","at":"2026-06-01T08:00:00Z","node":"ha-1","attempt":1}
            {"job":"task-9","type":"completed","at":"2026-06-01T08:05:00Z","attempt":1}
            {"job":"task-9","type":"finalizing","at":"2026-06-01T08:05:01Z","holder":"ha-2"}

            """)
        _ = try cli.ok(["ingest", file])
        #expect(try cli.ok(["status", "task-9", "--json"]).contains(#""finalized":false,"finalizing":{"holder":"ha-2","seq":3,"at":"2026-06-01T08:05:01Z"},"refs""#))
        #expect(try cli.ok(["status", "task-9"]).contains("finalizing:      claimed by ha-2 at 2026-06-01T08:05:01Z (seq 3)"))
        #expect(try cli.ok(["explain", "task-9"]).contains("not finalized): ha-2 claimed them at seq 3"))
        #expect(try cli.ok(["jobs", "--unfinalized"]).contains("task-9"))  // a claim is not a finalization
        // The holder is required, like a ref's.
        let bad = try cli.run(["append", "--job", "task-9", "--type", "finalizing"])
        #expect(bad.status != 0 && bad.stderr.contains("holder: required for finalizing"))
    }

    @Test func ingestThenQuery() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        let file = try cli.write("in.jsonl", sampleLines)
        #expect(try cli.ok(["ingest", file]) == "appended 12 events: seq 1...12\n")
        let status = try cli.ok(["status", "scan-3", "--json"])
        #expect(status.hasPrefix(#"{"job":"scan-3","status":"cancelled","terminal":true,"finalized":false,"finalizing":null,"refs":[],"version":5,"attempt":1,"node":"osiris","createdAt":"2026-06-01T08:00:00Z","attemptStartedAt":"2026-06-01T08:00:02Z","lastHeartbeatAt":null,"lastProgressAt":null,"index":null,"decidedBy":3,"decidedReason":"cancelled by user","anomalies":[{"seq":4,"type":"interrupted","message":"interrupted after cancelled at seq 3: ignored"}"#))
        let human = try cli.ok(["status", "scan-3"])
        #expect(human.contains("cancelled (terminal, not finalized)"))
        #expect(human.contains("seq 5: resumed after cancelled at seq 3: ignored"))
        // Time travel.
        #expect(try cli.ok(["status", "scan-3", "--until-seq", "2", "--json"]).contains(#""status":"running""#))
        #expect(try cli.ok(["status", "scan-3", "--at", "2026-06-01T08:10:00Z", "--json"]).contains(#""status":"running""#))
        // Queries: sorted by job id, AND-combined, empty array when nothing matches.
        let jobs = try cli.ok(["jobs", "--json"])
        #expect(jobs.hasPrefix(#"[{"job":"a-job""#))
        #expect(jobs.range(of: "b-job")!.lowerBound < jobs.range(of: "scan-3")!.lowerBound)
        #expect(try cli.ok(["jobs", "--resumable", "--json"]).contains(#""job":"b-job""#))
        #expect(!(try cli.ok(["jobs", "--resumable", "--json"]).contains("scan-3")))
        #expect(try cli.ok(["jobs", "--status", "running", "--status", "interrupted", "--node", "n2", "--json"]).contains("b-job"))
        #expect(try cli.ok(["jobs", "--status", "completed", "--json"]) == "[]\n")
        #expect(try cli.ok(["jobs", "--unfinalized"]).contains("scan-3"))
        let silent = try cli.ok(["jobs", "--silent-for", "10m", "--now", "2026-06-01T10:13:00Z", "--json"])
        #expect(silent.contains("a-job") && !silent.contains("b-job"))
        #expect(try cli.ok(["jobs", "--silent-for", "10m", "--now", "2026-06-01T10:12:59Z", "--json"]) == "[]\n")
        #expect(try cli.ok(["jobs", "--stalled-for", "10m", "--now", "2026-06-01T10:11:00Z", "--json"]).contains("a-job"))
        let table = try cli.ok(["jobs"])
        #expect(table.hasPrefix("JOB     STATUS"))
        // Replay and explain.
        let replay = try cli.ok(["replay", "scan-3", "--json"]).split(separator: "\n")
        #expect(replay.count == 5)
        // The stored event (appendedAt is the ingest's clock), what the fold did, what it changed.
        #expect(replay[3].hasPrefix(#"{"event":{"seq":4,"version":4,"job":"scan-3","type":"interrupted","at":"2026-06-01T09:02:40Z","appendedAt":""#))
        #expect(replay[3].hasSuffix(#""reason":"shutdown","attempt":1},"effect":"ignored","reason":"interrupted after cancelled at seq 3: ignored","changes":{"anomalyCount":1}}"#))
        #expect(replay[2].hasSuffix(#""effect":"applied","changes":{"status":"cancelled","terminal":true,"decidedBy":3,"decidedReason":"cancelled by user"}}"#))
        // Its events are the one stored-event encoding: `jq -c .event` of them is ingestable as it is.
        let events = replay.map { line -> String in
            let start = line.range(of: #"{"event":"#)!.upperBound
            let end = line.range(of: #","effect":"#)!.lowerBound
            return String(line[start..<end])
        }
        let other = CLI()
        defer { other.cleanup() }
        _ = try other.ok(["ingest", try other.write("events.jsonl", events.joined(separator: "\n") + "\n")])
        #expect(try other.ok(["status", "scan-3", "--json"]) == (try cli.ok(["status", "scan-3", "--json"])))
        #expect(try cli.ok(["replay", "scan-3"]).contains("⚠ resumed after cancelled at seq 3: ignored"))
        let explain = try cli.ok(["explain", "scan-3"])
        #expect(explain.contains("It was decided at seq 3"))
        #expect(explain.contains("seq 5: resumed after cancelled at seq 3: ignored"))
        // Stats.
        let stats = try cli.ok(["stats", "--json"])
        #expect(stats.contains(#""events":12"#) && stats.contains(#""jobs":3"#))
    }

    @Test func appendWithExpectedVersion() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        #expect(try cli.ok(["append", "--job", "j", "--type", "created"]) == "appended seq 1 to j: now pending (version 1)\n")
        #expect(
            try cli.ok(["append", "--job", "j", "--type", "started", "--node", "n", "--expect-version", "1"])
                == "appended seq 2 to j: now running, attempt 1 on n (version 2)\n")
        let conflict = try cli.run(["append", "--job", "j", "--type", "interrupted", "--expect-version", "1"])
        #expect(conflict.status == 3)
        #expect(conflict.stderr.contains("expected version 1, actual version 2"))
        #expect(try cli.eventCount() == 2)
        let bad = try cli.run(["append", "--job", "j", "--type", "refAcquired"])
        #expect(bad.status != 0 && bad.stderr.contains("--holder: required for refAcquired"))
        let badData = try cli.run(["append", "--job", "j", "--type", "progress", "--data", "[1]"])
        #expect(badData.status != 0 && badData.stderr.contains("--data: must be a JSON object"))
        let badType = try cli.run(["append", "--job", "j", "--type", "exploded"])
        #expect(badType.status != 0 && badType.stderr.contains("The value 'exploded' is invalid for '--type <type>'"))
        #expect(try cli.eventCount() == 2)
    }

    @Test(arguments: [
        (#"{"job":"x","type":"created"}"# + "\n" + #"{"job":"x","type":"started""#, "line 3: invalid JSON"),
        (#"{"type":"created"}"#, #"line 2: missing field "job""#),
        (#"{"job":"x"}"#, #"line 2: missing field "type""#),
        (#"{"job":"x","type":"teleported"}"#, #"line 2: field "type": unknown event type "teleported""#),
        ("\n\n" + #"{"job":"x","type":"created","at":"2026-13-01T00:00:00Z"}"#, #"line 4: field "at": not an RFC 3339 time"#),
        (#"{"job":"x","type":"refReleased"}"#, #"line 2: field "holder": required for refReleased"#),
        (#"{"job":"x","type":"progress","index":"seven"}"#, #"line 2: field "index": expected an integer, got a string"#),
        (#"{"job":["x"],"type":"created"}"#, #"line 2: field "job": expected a string, got an array"#),
    ])
    func badLinesFailTheWholeFileAndStoreNothing(input: String, message: String) throws {
        let cli = CLI()
        defer { cli.cleanup() }
        try cli.ok(["append", "--job", "before", "--type", "created"])
        // A good first line, so the bad one is never line 1 by accident.
        let lines = #"{"job":"ok","type":"created"}"# + "\n" + input + "\n"
        let out = try cli.run(["ingest", "-"], stdin: lines)
        #expect(out.status == 1)
        #expect(out.stderr.contains(message), "\(out.stderr)")
        #expect(out.stderr.split(separator: "\n").count == 1, "one line: \(out.stderr)")
        #expect(try cli.eventCount() == 1)
    }

    @Test func invalidUTF8LineIsRefused() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        var bytes = Data(#"{"job":"ok","type":"created"}"#.utf8 + [0x0A])
        bytes.append(contentsOf: Array(#"{"job":"x"#.utf8) + [0xC3, 0x28] + Array(#"","type":"created"}"#.utf8))
        let path = cli.dir.file("bad.jsonl")
        try bytes.write(to: URL(fileURLWithPath: path))
        let out = try cli.run(["ingest", path])
        #expect(out.status == 1)
        #expect(out.stderr.contains("bad.jsonl: line 2: invalid UTF-8"))
        #expect(!FileManager.default.fileExists(atPath: cli.journal), "nothing stored, not even an empty journal")
    }

    @Test func readingCommandsNeedAnExistingJournal() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        for args in [["status", "x"], ["jobs"], ["replay", "x"], ["explain", "x"], ["export"], ["verify"], ["stats"]] {
            let out = try cli.run(args)
            #expect(out.status == 1, "\(args)")
            #expect(out.stderr.contains("no journal at \(cli.journal)"), "\(args): \(out.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: cli.journal))
        try cli.ok(["append", "--job", "j", "--type", "created"])
        let unknown = try cli.run(["status", "nope"])
        #expect(unknown.status == 1 && unknown.stderr.contains("no such job"))
        #expect(try cli.run(["replay", "nope"]).stderr.contains("no such job"))
    }

    @Test func usageErrorsUseArgumentParsersCodeAndHelpHasExamples() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        #expect(try cli.run(["jobs", "--silent-for", "soon"]).status == 64)
        #expect(try cli.run(["jobs", "--status", "sleeping"]).status == 64)
        #expect(try cli.run(["status"]).status == 64)
        #expect(try cli.run(["frobnicate"]).status == 64)
        for command in ["ingest", "append", "status", "jobs", "replay", "explain", "export", "snapshot", "compact", "verify", "stats", "demo"] {
            let help = try cli.run([command, "--help"])
            #expect(help.status == 0)
            #expect(help.stdout.contains("Example"), "\(command) --help has no example")
        }
    }

    /// The benchmark is its own executable (it reaches the Journal, which the product CLI cannot):
    /// a tiny run still prints every figure, so the tool does not rot between benchmark sessions.
    @Test func theBenchmarkIsItsOwnExecutableAndPrintsItsFigures() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        #expect(try cli.run(["bench"]).status == 64, "bench is no longer a logbook command")
        let dir = TemporaryDirectory("bench")
        defer { dir.cleanup() }
        let bench = try run(
            builtExecutable("logbook-bench"),
            ["--events", "3000", "--durable-events", "5", "--concurrent-events", "2", "--dir", dir.path, "--json"])
        #expect(bench.status == 0, "\(bench.stderr)")
        for figure in ["append_batched_eps", "scan_eps", "verify_eps", "replay_eps", "open_with_snapshot_ms", "append_durable_concurrent_eps"] {
            #expect(bench.stdout.contains("\"\(figure)\":"), "no \(figure) in \(bench.stdout)")
        }
        #expect(try run(builtExecutable("logbook-bench"), ["--help"]).stdout.contains("Example"))
    }

    @Test func exportIngestRoundTripReproducesEveryState() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        try cli.ok(["ingest", "-"], stdin: sampleLines)
        let exported = try cli.ok(["export"])
        #expect(exported.split(separator: "\n").count == 12)
        #expect(exported.contains(#""data":{"k":[1,2,3]}"#))
        let copy = cli.dir.file("copy.journal")
        let ingest = try cli.run(["ingest", "-"], stdin: exported, journal: copy)
        #expect(ingest.status == 0)
        let original = try cli.ok(["jobs", "--json", "--now", "2026-06-02T00:00:00Z"])
        let copied = try cli.run(["jobs", "--json", "--now", "2026-06-02T00:00:00Z"], journal: copy).stdout
        #expect(original == copied)
        // An incident bundle: the full history of the selected jobs, or of every job active in a window.
        let bundle = try cli.ok(["export", "--job", "b-job"])
        #expect(bundle.split(separator: "\n").count == 2)
        let window = try cli.ok(["export", "--since", "2026-06-01T10:25:00Z", "--until", "2026-06-01T10:35:00Z"])
        #expect(window.split(separator: "\n").count == 2 && window.contains("b-job"))
        // Both filters: AND. b-job has an event in the window, scan-3 none.
        #expect(try cli.ok(["export", "--job", "b-job", "--since", "2026-06-01T10:25:00Z", "--until", "2026-06-01T10:35:00Z"]) == window)
        #expect(try cli.ok(["export", "--job", "scan-3", "--since", "2026-06-01T10:25:00Z", "--until", "2026-06-01T10:35:00Z"]).isEmpty)
        let unknown = try cli.run(["export", "--job", "nope"])
        #expect(unknown.status == 1 && unknown.stderr.contains("--job: no such job: nope") && unknown.stdout.isEmpty)
        let inverted = try cli.run(["export", "--since", "2026-06-02T00:00:00Z", "--until", "2026-06-01T00:00:00Z"])
        #expect(inverted.status == 64 && inverted.stderr.contains("--since 2026-06-02T00:00:00Z is after --until 2026-06-01T00:00:00Z"))
    }
}

@Suite struct EmbeddingExampleTests {
    @Test func theReadmeExampleRunsAndSaysWhatTheReadmeSays() throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        let out = try run(builtExecutable("EmbeddingExample"), [], currentDirectory: dir.path)
        #expect(FileManager.default.fileExists(atPath: dir.file("scanner.journal")))
        #expect(out.status == 0, "\(out.stderr)")
        #expect(out.stdout == """
            worker stops: scan-3 is cancelled
            stale write refused: version conflict on job scan-3: expected version 1, actual version 3
            resumable: []

            """)
    }

    @Test func theWorkerExampleRunsAndPrintsWhatTheReadmeShows() throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        let out = try run(builtExecutable("WorkerExample"), [], currentDirectory: dir.path)
        #expect(out.status == 0, "\(out.stderr)")
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        #expect(!out.stdout.isEmpty && readme.contains("Its output:\n\n```\n" + out.stdout + "```\n"))
        // A second run finds its jobs already decided and says so, rather than waiting for them.
        let again = try run(builtExecutable("WorkerExample"), [], currentDirectory: dir.path)
        #expect(again.status == 1 && again.stdout.contains("delete it to run the demo again"))
    }

    @Test func theReadmeShowsTheExampleProgramVerbatim() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        for example in ["EmbeddingExample", "WorkerExample"] {
            let program = try String(contentsOf: root.appendingPathComponent("Tools/\(example)/main.swift"), encoding: .utf8)
            #expect(readme.contains("```swift\n" + program + "```\n"), "README does not show \(example) verbatim")
        }
    }
}
