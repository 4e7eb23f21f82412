import Foundation
import TestSupport
import Testing

/// kill -9 during `ingest` and `compact`: all or nothing, old or new, never a mix.
@Suite(.serialized) struct CLICrashTests {
    /// Deterministic where it must be: a kill before the input ends stores nothing, a kill after the
    /// acknowledgement keeps everything; kills in between (the commit) must give one or the other.
    @Test func killDuringIngestStoresAllOrNothing() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        try cli.ok(["append", "--job", "seed", "--type", "created"])  // the journal exists before any kill
        let n = 60_000
        let lines = (0..<n).map { #"{"job":"job-\#($0 % 500)","type":"heartbeat","index":\#($0)}"# }.joined(separator: "\n") + "\n"
        func ingest() throws -> ChildProcess {
            try ChildProcess(builtExecutable("logbook"), ["--journal", cli.journal, "ingest", "-"])
        }
        // Killed while it still reads its input: it cannot have committed anything.
        let reading = try ingest()
        reading.send(String(lines.prefix(lines.utf8.count / 2)))
        reading.kill9()
        #expect(try cli.eventCount() == 1, "nothing of an unfinished input is stored")
        // Killed after it acknowledged: everything stays.
        let acknowledged = try ingest()
        acknowledged.send(lines)
        acknowledged.closeInput()
        #expect(acknowledged.waitForLine(timeout: 300) { $0.hasPrefix("appended \(n) events") })
        acknowledged.kill9()
        #expect(try cli.eventCount() == 1 + n, "an acknowledged ingest is all there")
        // Killed at moments between end of input and acknowledgement: all or nothing, each time.
        for round in 0..<5 {
            let before = try cli.eventCount()
            let child = try ingest()
            child.send(lines)
            child.closeInput()
            usleep(UInt32(round * 40_000))
            child.kill9()
            let added = try cli.eventCount() - before
            #expect(added == 0 || added == n, "round \(round): \(added) events is a partial ingest")
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
