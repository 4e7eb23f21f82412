import Foundation
import TestSupport
import Testing

@Suite struct MaintenanceCommandTests {
    /// Heartbeats galore: three attempts of one job, a zombie, and a terminal job with late heartbeats.
    static let heartbeatLines: String = {
        var lines: [String] = []
        func add(_ s: String) { lines.append(s) }
        add(#"{"job":"w","type":"started","at":"2026-06-01T00:00:00Z","node":"a","attempt":1}"#)
        for i in 1...20 { add(#"{"job":"w","type":"heartbeat","at":"2026-06-01T00:\#(String(format: "%02d", i)):00Z","attempt":1}"#) }
        add(#"{"job":"w","type":"interrupted","at":"2026-06-01T00:30:00Z"}"#)
        add(#"{"job":"w","type":"resumed","at":"2026-06-01T00:31:00Z","node":"b","attempt":2}"#)
        for i in 32...50 { add(#"{"job":"w","type":"heartbeat","at":"2026-06-01T00:\#(i):00Z","attempt":2}"#) }
        add(#"{"job":"w","type":"heartbeat","at":"2026-06-01T00:51:00Z","attempt":1}"#)  // zombie: kept
        add(#"{"job":"w","type":"heartbeat","at":"2026-06-01T00:52:00Z","attempt":2}"#)
        add(#"{"job":"t","type":"started","at":"2026-06-01T00:00:00Z"}"#)
        add(#"{"job":"t","type":"heartbeat","at":"2026-06-01T00:01:00Z"}"#)
        add(#"{"job":"t","type":"completed","at":"2026-06-01T00:02:00Z"}"#)
        add(#"{"job":"t","type":"heartbeat","at":"2026-06-01T00:03:00Z"}"#)  // after terminal: kept
        add(#"{"job":"t","type":"heartbeat","at":"2026-06-01T00:04:00Z"}"#)
        return lines.joined(separator: "\n") + "\n"
    }()

    @Test func compactDropsOnlySupersededHeartbeatsAndStatesStayByteIdentical() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        try cli.ok(["ingest", "-"], stdin: Self.heartbeatLines)
        let now = ["--now", "2026-06-02T00:00:00Z"]
        let before = try [cli.ok(["status", "w", "--json"]), cli.ok(["status", "t", "--json"]), cli.ok(["jobs", "--json"] + now)]
        let dry = try cli.ok(["compact", "--drop-superseded-heartbeats", "--dry-run"])
        // attempt 1: 20 applied heartbeats, 19 superseded; attempt 2: 20 applied (the zombie is not), 19 superseded.
        #expect(dry.contains("would drop 38 superseded heartbeats"), "\(dry)")
        // Per job: w loses 19 + 19; t's heartbeats are one applied and two after the terminal event.
        #expect(dry.split(separator: "\n").dropFirst().map(String.init) == ["JOB  HEARTBEATS DROPPED", "w    38"], "\(dry)")
        let dryJSON = try cli.ok(["compact", "--drop-superseded-heartbeats", "--dry-run", "--json"])
        #expect(dryJSON.contains(#""byJob":[{"job":"w","dropped":38}]"#), "\(dryJSON)")
        #expect(try cli.eventCount() == 49, "a dry run changes nothing")
        let real = try cli.ok(["compact", "--drop-superseded-heartbeats"])
        #expect(real.contains("dropped 38 superseded heartbeats"))
        #expect(try cli.eventCount() == 49 - 38)
        let after = try [cli.ok(["status", "w", "--json"]), cli.ok(["status", "t", "--json"]), cli.ok(["jobs", "--json"] + now)]
        #expect(after == before)
        let replay = try cli.ok(["replay", "w", "--json"])
        #expect(replay.contains("heartbeat from attempt 1 while attempt 2 runs on b"), "the zombie heartbeat is kept")
        #expect(try cli.ok(["verify"]).hasPrefix("sound:"))
        // Versions are not renumbered: the next append continues from the old count.
        #expect(try cli.ok(["append", "--job", "w", "--type", "heartbeat", "--expect-version", "44"]).hasPrefix("appended seq 50 to w:"))
    }

    @Test func compactRefusesWhileAnotherProcessHasTheJournalOpen() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        let child = try ChildProcess(builtExecutable("logbook-crash-harness"), [cli.journal, "--threads", "1", "--batch", "1"])
        defer { child.kill9() }
        #expect(child.waitForLine { $0 == "ready" })
        let out = try cli.run(["compact"])
        #expect(out.status == 1)
        #expect(out.stderr.contains("is open in another process"))
    }

    @Test func verifyNamesTheFirstBadSeq() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        try cli.ok(["ingest", "-"], stdin: sampleLines)
        try cli.ok(["snapshot"])
        #expect(try cli.ok(["verify"]).contains("the snapshot at seq 12 equals a full replay"))
        // Flip one byte of record 7's job id in the file (the record sits verbatim in an LMDB page).
        var bytes = try Data(contentsOf: URL(fileURLWithPath: cli.journal))
        let needle = Data(#"{"k":[1,2,3]}"#.utf8)
        let at = try #require(bytes.range(of: needle))
        bytes[at.lowerBound + 2] = UInt8(ascii: "z")
        try bytes.write(to: URL(fileURLWithPath: cli.journal))
        let out = try cli.run(["verify"])
        #expect(out.status == 1)
        #expect(out.stderr.contains("corrupt record at seq 6: checksum mismatch"), "\(out.stderr)")
    }
}

@Suite struct ReadWhileAppendingTests {
    @Test func readingCommandsWorkWhileAnotherProcessAppends() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        let child = try ChildProcess(builtExecutable("logbook-crash-harness"), [cli.journal, "--threads", "2", "--batch", "3"])
        defer { child.kill9() }
        #expect(child.waitForLine { $0 == "ready" })
        var last = 0
        for _ in 0..<5 {
            usleep(40_000)
            let count = try cli.eventCount()
            #expect(count >= last && count % 3 == 0, "a consistent prefix of whole batches: \(count)")
            last = count
            #expect(try cli.run(["jobs", "--json"]).status == 0)
            #expect(try cli.run(["status", "job-0-0", "--json"]).status == 0 || count == 0)
        }
        #expect(last > 0)
        #expect(try cli.run(["verify"]).stdout.hasPrefix("sound:"))
    }
}
