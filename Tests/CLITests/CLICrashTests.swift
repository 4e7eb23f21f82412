import Foundation
import TestSupport
import Testing

/// kill -9 during `ingest` and `compact`: all or nothing, old or new, never a mix.
@Suite(.serialized) struct CLICrashTests {
    @Test func killDuringIngestStoresAllOrNothing() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        let lines = (0..<60_000).map { #"{"job":"job-\#($0 % 500)","type":"heartbeat","index":\#($0)}"# }.joined(separator: "\n")
        let file = try cli.write("big.jsonl", lines + "\n")
        var seen: Set<Int> = []
        for round in 0..<5 {
            let child = try ChildProcess(builtExecutable("logbook"), ["--journal", cli.journal, "ingest", file])
            usleep(UInt32(50_000 + round * 200_000))
            child.kill9()
            let count = try cli.eventCount()
            #expect(count % 60_000 == 0, "round \(round): \(count) events is a partial ingest")
            seen.insert(count)
        }
        #expect(try cli.ok(["verify"]).hasPrefix("sound:"))
    }

    @Test func killDuringCompactLeavesTheOldOrTheNewJournal() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        var lines: [String] = []
        for job in 0..<200 {
            lines.append(#"{"job":"j\#(job)","type":"started","at":"2026-06-01T00:00:00Z"}"#)
            for i in 0..<150 { lines.append(#"{"job":"j\#(job)","type":"heartbeat","at":"2026-06-01T01:00:00Z","index":\#(i)}"#) }
        }
        try cli.ok(["ingest", "-"], stdin: lines.joined(separator: "\n"))
        let now = ["--now", "2026-06-02T00:00:00Z"]
        let states = try cli.ok(["jobs", "--json"] + now)
        let full = 200 * 151
        let compacted = 200 * 2
        for round in 0..<6 {
            let child = try ChildProcess(builtExecutable("logbook"), ["--journal", cli.journal, "compact", "--drop-superseded-heartbeats"])
            usleep(UInt32(20_000 + round * 60_000))
            child.kill9()
            let count = try cli.eventCount()
            #expect(count == full || count == compacted, "round \(round): \(count) events")
            #expect(try cli.ok(["verify"]).hasPrefix("sound:"), "round \(round)")
            #expect(try cli.ok(["jobs", "--json"] + now) == states, "round \(round)")
            if count == compacted { break }
        }
        try cli.ok(["compact", "--drop-superseded-heartbeats"])
        #expect(try cli.eventCount() == compacted)
    }
}
