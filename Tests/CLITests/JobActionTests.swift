import Foundation
import TestSupport
import Testing

/// `append`'s answer, `cancel` / `interrupt` / `finalize`, and `tail`, driven as the built binary.
@Suite struct JobActionTests {
    @Test func appendSaysWhatTheFoldMadeOfTheEvent() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        _ = try cli.ok(["append", "--job", "scan-3", "--type", "started", "--node", "osiris", "--attempt", "1"])
        _ = try cli.ok(["append", "--job", "scan-3", "--type", "cancelled", "--reason", "cancelled by user"])
        let beat = try cli.ok(["append", "--job", "scan-3", "--type", "heartbeat", "--attempt", "1"])
        #expect(beat == "appended seq 3 to scan-3: stored as evidence, ignored: heartbeat after cancelled at seq 2; the job stays cancelled\n")
        let json = try cli.ok(["append", "--job", "scan-3", "--type", "heartbeat", "--attempt", "1", "--json"])
        #expect(json.hasPrefix(#"{"seq":4,"version":4,"effect":"ignored","reason":"heartbeat after cancelled at seq 2: ignored","replayed":false,"state":{"job":"scan-3","status":"cancelled""#))
        let applied = try cli.ok(["append", "--job", "other", "--type", "created", "--json"])
        #expect(applied.hasPrefix(#"{"seq":5,"version":1,"effect":"applied","replayed":false,"state":{"job":"other","status":"pending""#))
    }

    @Test func anIgnoredEventPastTheHundredKeptAnomaliesIsStillReportedAsIgnored() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        var lines = [#"{"job":"j","type":"cancelled"}"#]
        for _ in 0..<100 { lines.append(#"{"job":"j","type":"heartbeat"}"#) }
        _ = try cli.ok(["ingest", try cli.write("in.jsonl", lines.joined(separator: "\n") + "\n")])
        let out = try cli.ok(["append", "--job", "j", "--type", "heartbeat", "--json"])
        #expect(out.contains(#""effect":"ignored","reason":"heartbeat after cancelled at seq 1: ignored""#))
    }

    @Test func cancelInterruptAndFinalizeActUnderTheVersionTheyRead() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        _ = try cli.ok(["append", "--job", "crawl", "--type", "started", "--node", "vps", "--attempt", "1"])
        let interrupted = try cli.ok(["interrupt", "crawl", "--reason", "requeue"])
        #expect(interrupted == "appended seq 2 to crawl: now interrupted (version 2)\n")
        #expect(try cli.ok(["jobs", "--resumable", "--json"]).contains(#""job":"crawl""#))
        #expect(try cli.ok(["replay", "crawl", "--json"]).contains(#""type":"interrupted","at":"#))
        let early = try cli.run(["finalize", "crawl"])
        #expect(early.status == 1 && early.stderr.contains("crawl: finalized before any terminal event: it would be ignored; nothing appended"))
        let cancelled = try cli.ok(["cancel", "crawl", "--reason", "by alice", "--json"])
        #expect(cancelled.contains(#""effect":"applied""#) && cancelled.contains(#""decidedReason":"by alice""#))
        let again = try cli.run(["cancel", "crawl"])
        #expect(again.status == 1 && again.stderr.contains("cancelled after cancelled at seq 3: it would be ignored; nothing appended"))
        #expect(try cli.ok(["finalize", "crawl"]) == "appended seq 4 to crawl: now cancelled, finalized (version 4)\n")
        #expect(try cli.eventCount() == 4)  // the refusals stored nothing
        let missing = try cli.run(["cancel", "nope"])
        #expect(missing.status == 1 && missing.stderr.contains("no such job: nope"))
        #expect(try cli.eventCount() == 4)
    }

    @Test func interruptNamesTheCurrentAttemptSoItFencesNothingNewer() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        _ = try cli.ok(["append", "--job", "j", "--type", "started", "--node", "a", "--attempt", "1"])
        _ = try cli.ok(["interrupt", "j"])
        _ = try cli.ok(["append", "--job", "j", "--type", "resumed", "--node", "b", "--attempt", "2"])
        _ = try cli.ok(["interrupt", "j", "--reason", "operator"])
        let replay = try cli.ok(["replay", "j", "--json"]).split(separator: "\n")
        #expect(replay[1].contains(#""type":"interrupted","at":"#) && replay[1].contains(#""attempt":1}"#))
        #expect(replay[3].contains(#""reason":"operator","attempt":2}"#))
    }

    @Test func tailFollowsAnotherProcessesAppendsWithTheFoldsEffectAndFiltersByJob() async throws {
        let cli = CLI()
        defer { cli.cleanup() }
        _ = try cli.ok(["append", "--job", "a", "--type", "started", "--node", "n", "--attempt", "1"])
        let tail = try ChildProcess(builtExecutable("logbook"), ["--journal", cli.journal, "tail", "--after", "0", "--job", "a"])
        defer { tail.kill9() }
        #expect(await tail.line { $0.hasPrefix("1  ") && $0.hasSuffix("  a  started on n  applied") })
        // Another process appends: b's event must never show, a's in order with their effects.
        _ = try cli.ok(["append", "--job", "b", "--type", "created"])
        _ = try cli.ok(["cancel", "a", "--reason", "stop"])
        _ = try cli.ok(["append", "--job", "a", "--type", "heartbeat", "--attempt", "1"])
        #expect(await tail.line { $0.hasPrefix("4  ") })
        let lines = tail.outputLines
        #expect(lines.count == 3, "\(lines)")
        #expect(lines[1].hasPrefix("3  ") && lines[1].hasSuffix("  a  cancelled: stop  decides: cancelled"))
        #expect(lines[2].hasSuffix("  a  heartbeat (attempt 1)  IGNORED: heartbeat after cancelled at seq 3"))
        #expect(!lines.contains { $0.contains("  b  ") })
    }

    @Test func tailJSONIsTheReplayShapeAndStartsAfterTheLastEventByDefault() async throws {
        let cli = CLI()
        defer { cli.cleanup() }
        _ = try cli.ok(["append", "--job", "old", "--type", "created"])
        let tail = try ChildProcess(builtExecutable("logbook"), ["--journal", cli.journal, "tail", "--json"])
        defer { tail.kill9() }
        // The tail starts after seq 1; append until it has shown something (it may open after the first).
        // The bound is the suite's patience: on a loaded machine the tail may take long to start.
        var appended = 1
        let deadline = Date().addingTimeInterval(patientSeconds)
        while tail.outputLines.isEmpty, tail.process.isRunning, Date() < deadline {
            _ = try cli.ok(["append", "--job", "new", "--type", "heartbeat"])
            appended += 1
            _ = await tail.line(within: 0.2) { _ in true }
        }
        let first = try #require(tail.outputLines.first, "tail printed nothing after \(appended) events: \(tail.diagnosis)")
        #expect(first.hasPrefix(#"{"event":{"seq":"#) && first.contains(#""job":"new","type":"heartbeat""#))
        #expect(first.contains(#""effect":"ignored","reason":"heartbeat while pending: ignored""#))
        #expect(!tail.outputLines.contains { $0.contains(#""job":"old""#) })
    }
}
