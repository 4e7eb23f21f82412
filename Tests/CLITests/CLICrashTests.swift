import Foundation
import TestSupport
import Testing

/// kill -9 during `ingest`, `compact`, `backup`, `salvage` and `archive`: all or nothing, old or new, never a mix.
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

    static func heartbeatHeavyJournal(_ cli: CLI) throws {
        var lines: [String] = []
        for job in 0..<200 {
            lines.append(#"{"job":"j\#(job)","type":"started","at":"2026-06-01T00:00:00Z"}"#)
            for i in 0..<150 { lines.append(#"{"job":"j\#(job)","type":"heartbeat","at":"2026-06-01T01:00:00Z","index":\#(i)}"#) }
        }
        try cli.ok(["ingest", "-"], stdin: lines.joined(separator: "\n"))
    }

    /// The in-place drop goes in steps of 1,000 records, each one write transaction: a kill leaves
    /// whole steps (the count drops by multiples of 1,000), the journal sound, every state the same,
    /// and a second run finishes the job.
    @Test func killDuringAnInPlaceDropLeavesWholeStepsAndARerunFinishes() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        try Self.heartbeatHeavyJournal(cli)
        let now = ["--now", "2026-06-02T00:00:00Z"]
        let states = try cli.ok(["jobs", "--json"] + now)
        let full = 200 * 151
        let pruned = 200 * 2
        var partial = 0
        for round in 0..<6 {
            let child = try ChildProcess(builtExecutable("logbook"), ["--journal", cli.journal, "compact", "--drop-superseded-heartbeats"])
            usleep(UInt32(20_000 + round * 40_000))
            child.kill9()
            let count = try cli.eventCount()
            #expect(count == pruned || (full - count) % 1_000 == 0, "round \(round): \(count) events is not a whole number of steps")
            if count != full && count != pruned { partial += 1 }
            #expect(try cli.ok(["verify"]).hasPrefix("sound:"), "round \(round)")
            #expect(try cli.ok(["jobs", "--json"] + now) == states, "round \(round)")
            if count == pruned { break }
        }
        try cli.ok(["compact", "--drop-superseded-heartbeats"])
        #expect(try cli.eventCount() == pruned)
        #expect(try cli.ok(["jobs", "--json"] + now) == states)
        print("kills that left a partly pruned journal: \(partial)")
    }

    /// The offline rewrite swaps the new file in atomically: a kill leaves the old or the new one.
    @Test func killDuringCompactLeavesTheOldOrTheNewJournal() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        try Self.heartbeatHeavyJournal(cli)
        let now = ["--now", "2026-06-02T00:00:00Z"]
        let states = try cli.ok(["jobs", "--json"] + now)
        let exported = try cli.ok(["export"])
        for round in 0..<4 {
            let child = try ChildProcess(builtExecutable("logbook"), ["--journal", cli.journal, "compact"])
            usleep(UInt32(20_000 + round * 60_000))
            child.kill9()
            #expect(try cli.ok(["verify"]).hasPrefix("sound:"), "round \(round)")
            #expect(try cli.ok(["jobs", "--json"] + now) == states, "round \(round)")
            #expect(try cli.ok(["export"]) == exported, "round \(round)")
        }
        try cli.ok(["compact"])
        #expect(try cli.ok(["export"]) == exported)
    }

    /// A journal big enough that a copy or rewrite takes a while: 600 finished jobs of 12 events.
    static func bigRetentionJournal(_ cli: CLI) throws {
        try cli.ok(["ingest", "-"], stdin: RetentionCommandTests.retentionLines(finished: 600, open: 200, heartbeats: 8))
    }

    static func sha(_ path: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: path)) }

    @Test func killDuringBackupOrSalvageLeavesTheJournalAsItWasAndNoHalfCopy() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        try Self.bigRetentionJournal(cli)
        try cli.ok(["snapshot"])
        let export = try cli.ok(["export"])
        let bytes = try Self.sha(cli.journal)
        for command in ["backup", "salvage"] {
            let dest = cli.dir.file("\(command).journal")
            var finished = false
            for round in 0..<8 where !finished {
                let args = command == "backup" ? ["backup", dest] : ["salvage", "--to", dest]
                let child = try ChildProcess(builtExecutable("logbook"), ["--journal", cli.journal] + args)
                usleep(UInt32(5_000 + round * 25_000))
                child.kill9()
                #expect(try Self.sha(cli.journal) == bytes, "\(command) round \(round): the journal is only read")
                // No destination, or the complete one; never a half-written file under its name.
                if FileManager.default.fileExists(atPath: dest) {
                    #expect(try cli.run(["verify"], journal: dest).stdout.hasPrefix("sound:"), "\(command) round \(round)")
                    #expect(try cli.run(["export"], journal: dest).stdout == export, "\(command) round \(round)")
                    finished = true
                }
            }
            // Whatever a kill left behind, the next run completes (a leftover .partial is cleared).
            if !finished {
                let args = command == "backup" ? ["backup", dest] : ["salvage", "--to", dest]
                try cli.ok(args)
                #expect(try cli.run(["export"], journal: dest).stdout == export)
            }
            #expect(!FileManager.default.fileExists(atPath: dest + ".partial"))
        }
        #expect(try cli.ok(["export"]) == export)
    }

    /// kill -9 at random moments of an online archive: each time the journal is sound, every
    /// archived job is whole in the journal or whole in the bundle (in both only while the run's
    /// plan is recorded), the other jobs untouched; the next run finishes into the same bundle, and
    /// every job ends up in it exactly once.
    @Test func killDuringArchiveLeavesEachJobWholeAndTheNextRunFinishes() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        try Self.bigRetentionJournal(cli)
        try cli.ok(["snapshot"])
        let now = ["--now", "2026-06-10T00:00:00Z"]
        let keptList = try RetentionCommandTests.remainingJobs(cli.ok(["jobs", "--json"] + now))
        let full = try cli.eventCount()
        let perJob = 12
        let archived = 600 * perJob
        var rng = SystemRandomNumberGenerator()
        var landedMidway = 0
        for round in 0..<6 {
            let journal = cli.dir.file("round-\(round).journal")
            try FileManager.default.copyItem(atPath: cli.journal, toPath: journal)
            let bundle = cli.dir.file("round-\(round).jsonl")
            // Steps of one job: six hundred write transactions, so most kills land between two of them.
            let archive = ["--journal", journal, "archive", "--finalized-before", "2026-06-02T00:00:00Z", "--to", bundle, "--step", "12"]
            let child = try ChildProcess(builtExecutable("logbook"), archive)
            usleep(UInt32.random(in: 60_000...350_000, using: &rng))
            child.kill9()
            #expect(try cli.run(["verify"], journal: journal).stdout.hasPrefix("sound:"), "round \(round)")
            #expect(try RetentionCommandTests.remainingJobs(cli.run(["jobs", "--json"] + now, journal: journal).stdout) == keptList)
            // Each archived job whole on one side (or both); none half anywhere.
            let count = try cli.run(["stats", "--json"], journal: journal).stdout
            let events = try #require(try RetentionCommandTests.jsonObject(count)["events"] as? Int)
            let inBundle = FileManager.default.fileExists(atPath: bundle) ? try Self.linesPerJob(bundle) : [:]
            #expect(inBundle.values.allSatisfy { $0 == perJob }, "round \(round): whole jobs in the bundle")
            let left = (full - events) / perJob
            #expect((full - events) % perJob == 0, "round \(round): whole jobs left the journal")
            #expect(left <= inBundle.count, "round \(round): every removed job is in the bundle")
            if left > 0 && left < 600 { landedMidway += 1 }
            // The next run (the same command) finishes it.
            let rerun = try cli.run(Array(archive.dropFirst(2)), journal: journal)
            // (After a kill that came once the run had finished, the bundle's name is taken.)
            #expect(rerun.status == 0 || (left == 600 && rerun.stderr.contains("exists already")), "round \(round): \(rerun.stderr)")
            #expect(try cli.run(["stats", "--json"], journal: journal).stdout.contains(#""events":\#(full - archived)"#), "round \(round)")
            let finished = try Self.linesPerJob(bundle)
            #expect(finished.count == 600 && finished.values.allSatisfy { $0 == perJob }, "round \(round): each job once")
            #expect(try cli.run(["verify"], journal: journal).stdout.hasPrefix("sound:"))
        }
        print("online archive kills that landed between steps: \(landedMidway) of 6")
    }

    static func linesPerJob(_ bundle: String) throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for line in try String(contentsOfFile: bundle, encoding: .utf8).split(separator: "\n") {
            let object = try RetentionCommandTests.jsonObject(String(line))
            counts[object["job"] as? String ?? "?", default: 0] += 1
        }
        return counts
    }
}
