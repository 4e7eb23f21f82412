import Foundation
import TestSupport
import Testing

/// `backup`, `salvage` and `archive` through the built binary (docs/operations.md).
@Suite struct RetentionCommandTests {
    /// `finished` jobs that completed and were finalized on June 1st, `open` jobs still running or
    /// finished but never finalized, and one job finalized on June 1st that got a late heartbeat on
    /// June 3rd (not quiet: it stays).
    static func retentionLines(finished: Int, open: Int, heartbeats: Int = 3) -> String {
        var lines: [String] = []
        for j in 0..<finished {
            lines.append(#"{"job":"done-\#(j)","type":"created","at":"2026-06-01T00:00:00Z","data":{"n":\#(j)}}"#)
            lines.append(#"{"job":"done-\#(j)","type":"started","at":"2026-06-01T00:00:01Z","node":"n1","attempt":1}"#)
            for i in 0..<heartbeats { lines.append(#"{"job":"done-\#(j)","type":"heartbeat","at":"2026-06-01T00:01:00Z","index":\#(i),"attempt":1}"#) }
            lines.append(#"{"job":"done-\#(j)","type":"completed","at":"2026-06-01T01:00:00Z","attempt":1}"#)
            lines.append(#"{"job":"done-\#(j)","type":"finalized","at":"2026-06-01T02:00:00Z"}"#)
            if j < open {
                // Interleaved so the archived jobs' seqs are scattered among the remaining ones'.
                lines.append(#"{"job":"open-\#(j)","type":"started","at":"2026-06-01T00:00:00Z","node":"n2"}"#)
                if j % 2 == 0 { lines.append(#"{"job":"open-\#(j)","type":"completed","at":"2026-06-01T00:30:00Z"}"#) }
            }
        }
        lines.append(#"{"job":"late","type":"completed","at":"2026-06-01T00:00:00Z"}"#)
        lines.append(#"{"job":"late","type":"finalized","at":"2026-06-01T00:00:01Z"}"#)
        lines.append(#"{"job":"late","type":"heartbeat","at":"2026-06-03T00:00:00Z"}"#)
        return lines.joined(separator: "\n") + "\n"
    }

    static let now = ["--now", "2026-06-10T00:00:00Z"]

    /// The jobs of a `jobs --json` array that are not archived ones (`done-…`), each as its exact text.
    static func remainingJobs(_ list: String) throws -> [String] {
        let jobs = try #require(try JSONSerialization.jsonObject(with: Data(list.utf8)) as? [[String: Any]])
        let kept = jobs.filter { !(($0["job"] as? String)?.hasPrefix("done-") ?? false) }
        // Re-serialised with sorted keys, so equal objects give equal text and any changed byte shows.
        return try kept.map { String(decoding: try JSONSerialization.data(withJSONObject: $0, options: [.sortedKeys]), as: UTF8.self) }
    }

    static func jsonObject(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    @Test func archiveMovesFinishedQuietJobsToABundleAndLeavesTheRestByteIdentical() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        try cli.ok(["ingest", "-"], stdin: Self.retentionLines(finished: 6, open: 4))
        let remainingJobs = ["late"] + (0..<4).map { "open-\($0)" }
        let before = try remainingJobs.map { try cli.ok(["status", $0, "--json"]) }
        let beforeList = try cli.ok(["jobs", "--json"] + Self.now)
        let total = try cli.eventCount()
        try cli.ok(["snapshot"])  // written before: it still loads right after the jobs left
        let bundle = cli.dir.file("june.jsonl")
        let archive = ["archive", "--finalized-before", "2026-06-02T00:00:00Z", "--to", bundle]

        let dry = try Self.jsonObject(cli.ok(archive + ["--dry-run", "--json"]))
        #expect(dry["jobs"] as? [String] == (0..<6).map { "done-\($0)" })
        #expect(dry["events"] as? Int == 6 * 7)
        #expect(dry["bundle"] is NSNull)
        #expect(!FileManager.default.fileExists(atPath: bundle), "a dry run writes no bundle")
        #expect(try cli.eventCount() == total, "a dry run changes nothing")

        let out = try cli.ok(archive)
        #expect(out.hasPrefix("archived 6 jobs (42 events) to \(bundle)"), "\(out)")
        #expect(out.contains("in 1 step;"), "\(out)")
        #expect(try cli.eventCount() == total - 42)
        // The remaining jobs: every state byte-identical, the list identical but for the jobs that left.
        #expect(try remainingJobs.map { try cli.ok(["status", $0, "--json"]) } == before)
        #expect(try Self.remainingJobs(cli.ok(["jobs", "--json"] + Self.now)) == Self.remainingJobs(beforeList))
        #expect(try cli.run(["status", "done-0"]).status == 1, "an archived job is gone")
        #expect(try cli.ok(["verify"]).contains("the snapshot at seq"))
        // Seqs are not reused: the next append continues after the highest seq ever assigned.
        #expect(try cli.ok(["append", "--job", "open-1", "--type", "heartbeat"]).hasPrefix("appended seq \(total + 1) to open-1:"))

        // The bundle is the export format: ingested elsewhere it gives back the archived jobs.
        let other = cli.dir.file("other.journal")
        #expect(try cli.run(["ingest", bundle], journal: other).status == 0)
        let restored = try cli.run(["status", "done-3", "--json"], journal: other).stdout
        #expect(restored.contains(#""status":"completed""#) && restored.contains(#""finalized":true"#), "\(restored)")
        #expect(try cli.run(["stats", "--json"], journal: other).stdout.contains(#""events":42"#))

        // Again: nothing qualifies any more, so nothing is written; an existing bundle is refused.
        let again = try cli.ok(["archive", "--finalized-before", "2026-06-02T00:00:00Z", "--to", cli.dir.file("none.jsonl")])
        #expect(again.hasPrefix("nothing to archive"))
        #expect(!FileManager.default.fileExists(atPath: cli.dir.file("none.jsonl")))
        let clash = try cli.run(archive)
        #expect(clash.status == 1 && clash.stderr.contains("exists already"), "\(clash.stderr)")
    }

    @Test func archiveRunsBesideAReaderAndAnAppender() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        try cli.ok(["ingest", "-"], stdin: Self.retentionLines(finished: 40, open: 0))
        let reader = try ChildProcess(builtExecutable("logbook-crash-harness"), [cli.journal, "--hold-read"])
        defer { reader.kill9() }
        #expect(reader.waitForLine { $0 == "holding" })
        let writer = try ChildProcess(builtExecutable("logbook-crash-harness"), [cli.journal, "--threads", "2", "--batch", "3"])
        defer { writer.kill9() }
        #expect(writer.waitForLine { $0 == "ready" })
        let bundle = cli.dir.file("b.jsonl")
        let out = try Self.jsonObject(
            cli.ok(["archive", "--finalized-before", "2026-06-02T00:00:00Z", "--to", bundle, "--json"]))
        writer.kill9()
        #expect((out["jobs"] as? [String])?.count == 40)
        #expect(try String(contentsOfFile: bundle, encoding: .utf8).split(separator: "\n").count == 40 * 7)
        #expect(try cli.ok(["verify"]).hasPrefix("sound:"))
        #expect(try cli.run(["status", "done-0"]).status == 1)
    }

    @Test func backupBesideAnAppendingProcessIsAConsistentVerifiedPrefix() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        let writer = try ChildProcess(builtExecutable("logbook-crash-harness"), [cli.journal, "--threads", "2", "--batch", "3"])
        #expect(writer.waitForLine { $0 == "ready" })
        while try cli.eventCount() < 300 { usleep(20_000) }
        let dest = cli.dir.file("copy.journal")
        let report = try Self.jsonObject(cli.ok(["backup", dest, "--json"]))
        writer.kill9()
        let records = try #require(report["records"] as? Int)
        let lastSeq = try #require(report["lastSeq"] as? Int)
        #expect(records >= 300 && records % 3 == 0, "a backup holds whole batches: \(records)")
        #expect(lastSeq == records, "nothing compacted away: seqs 1...\(lastSeq)")
        #expect(report["bytes"] as? Int == Int(try #require(try FileManager.default.attributesOfItem(atPath: dest)[.size] as? UInt64)))
        // The copy is a journal in its own right, and exactly the journal's first records.
        #expect(try cli.run(["verify"], journal: dest).stdout.hasPrefix("sound:"))
        let copyExport = try cli.run(["export"], journal: dest).stdout.split(separator: "\n")
        let fullExport = try cli.ok(["export"]).split(separator: "\n")
        #expect(copyExport.count == records)
        #expect(Array(fullExport.prefix(records)) == copyExport)
        #expect(!FileManager.default.fileExists(atPath: dest + ".partial"))
        // An existing destination is refused and left alone.
        let size = try FileManager.default.attributesOfItem(atPath: dest)[.size] as? UInt64
        let again = try cli.run(["backup", dest])
        #expect(again.status == 1 && again.stderr.contains("exists already"))
        #expect(try FileManager.default.attributesOfItem(atPath: dest)[.size] as? UInt64 == size)
    }

    @Test func salvageKeepsEverySoundRecordAndNamesEachLostSeqWithItsJob() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        try cli.ok(["ingest", "-"], stdin: sampleLines)
        try cli.ok(["snapshot"])
        let healthy = try ["scan-3", "b-job"].map { try cli.ok(["status", $0, "--json"]) }
        // Break record 6 (a-job's created event, whose data is {"k":[1,2,3]}) in the file.
        var bytes = try Data(contentsOf: URL(fileURLWithPath: cli.journal))
        let at = try #require(bytes.range(of: Data(#"{"k":[1,2,3]}"#.utf8)))
        bytes[at.lowerBound + 2] = UInt8(ascii: "z")
        try bytes.write(to: URL(fileURLWithPath: cli.journal))
        #expect(try cli.run(["verify"]).status == 1)

        let dest = cli.dir.file("saved.journal")
        let human = try cli.ok(["salvage", "--to", dest])
        #expect(human.contains("salvaged 11 records into \(dest)"), "\(human)")
        #expect(human.contains("lost 1 record:"))
        #expect(human.contains("6    a-job  corrupt record at seq 6: checksum mismatch"), "\(human)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: cli.journal)) == bytes, "the damaged journal is only read")

        let json = try Self.jsonObject(cli.ok(["salvage", "--to", cli.dir.file("saved2.journal"), "--json"]))
        let lost = try #require(json["lost"] as? [[String: Any]])
        #expect(lost.count == 1 && lost[0]["seq"] as? Int == 6 && lost[0]["job"] as? String == "a-job")
        #expect(json["kept"] as? Int == 11 && json["lastSeq"] as? Int == 12)

        // The new journal: sound, with a snapshot; untouched jobs identical; a-job keeps its other
        // events at their seqs and versions.
        #expect(try cli.run(["verify"], journal: dest).stdout.contains("the snapshot at seq 12 equals a full replay"))
        #expect(try ["scan-3", "b-job"].map { try cli.run(["status", $0, "--json"], journal: dest).stdout } == healthy)
        let replay = try cli.run(["replay", "a-job", "--json", "--all"], journal: dest).stdout
        let seqs = replay.split(separator: "\n").compactMap { line -> Int? in
            let entry = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            return (entry?["event"] as? [String: Any])?["seq"] as? Int
        }
        #expect(seqs == [7, 8, 9, 10], "\(replay)")
        #expect(replay.contains(#""version":2"#), "versions are kept, not renumbered")
        #expect(try cli.run(["append", "--job", "b-job", "--type", "heartbeat"], journal: dest).stdout.hasPrefix("appended seq 13 "))
    }

    @Test func copiesRefuseAMissingJournalAndCreateNothing() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        for args in [["backup", cli.dir.file("b")], ["salvage", "--to", cli.dir.file("s")]] {
            let out = try cli.run(args)
            #expect(out.status == 1 && out.stderr.contains("no journal at"), "\(args): \(out.stderr)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: cli.dir.path).isEmpty)
        try cli.ok(["append", "--job", "j", "--type", "created"])
        for args in [["backup", ""], ["salvage", "--to", ""], ["archive", "--finalized-before", "now", "--to", "x/"]] {
            let out = try cli.run(args)
            #expect(out.status == 64 && out.stderr.contains("must name a new file"), "\(args): \(out.stderr)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: cli.dir.path).sorted() == ["test.journal", "test.journal-lock", "test.journal-owners"])
    }
}
