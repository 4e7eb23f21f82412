import Foundation
import TestSupport
import Testing

/// Input and output edges of the command line: typed arguments, a BOM, hostile ids on a terminal.
@Suite struct CLIInputEdgeTests {
    @Test func aByteOrderMarkAtTheStartOfAnIngestFileIsSkipped() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        let file = cli.dir.file("bom.jsonl")
        let text = #"{"job":"j","type":"created"}"# + "\n" + #"{"job":"j","type":"started"}"# + "\n"
        try Data([0xEF, 0xBB, 0xBF] + Array(text.utf8)).write(to: URL(fileURLWithPath: file))
        #expect(try cli.ok(["ingest", file]) == "appended 2 events: seq 1...2\n")
    }

    @Test(arguments: [
        (["append", "--job", "j", "--type", "started", "--index", "-1"], "--index must be an integer >= 0"),
        (["append", "--job", "j", "--type", "started", "--attempt", "0"], "--attempt must be an integer >= 1"),
        (["append", "--job", "j", "--type", "begun"], "The value 'begun' is invalid for '--type <type>'"),
        (["append", "--job", "j", "--type", "started", "--at", "noon"], "The value 'noon' is invalid for '--at <at>'"),
        (["jobs", "--status", "runing"], "The value 'runing' is invalid for '--status <status>'"),
        (["jobs", "--silent-for", "5"], "The value '5' is invalid for '--silent-for <silent-for>'"),
        (["status", "j", "--at", "yesterday"], "The value 'yesterday' is invalid for '--at <at>'"),
    ])
    func typedArgumentsAreValidatedByTheParserWithThatCommandsUsage(args: [String], message: String) throws {
        let cli = CLI()
        defer { cli.cleanup() }
        let out = try cli.run(args)
        #expect(out.status == 64, "\(args): \(out.stderr)")
        #expect(out.stderr.contains(message), "\(args): \(out.stderr)")
        #expect(out.stderr.contains("Usage: logbook \(args[0])"), "\(args): \(out.stderr)")
        #expect(access(cli.journal, F_OK) != 0, "nothing was stored")
    }

    @Test func helpListsTheChoicesFromTheTypes() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        let append = try cli.run(["append", "--help"]).stdout
        #expect(append.contains("refAcquired") && append.contains("finalized"))
        let jobs = try cli.run(["jobs", "--help"]).stdout
        #expect(jobs.contains("interrupted") && jobs.contains("cancelled"))
    }

    @Test func controlCharactersInIdsAreEscapedInHumanOutputAndExactInJSON() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        let job = "evil\u{1B}[31mred\nforged row"
        let lines = [
            ["job": job, "type": "started", "node": "n\u{1B}]0;title\u{07}"],
            ["job": job, "type": "cancelled", "reason": "line1\nline2\u{202E}"],
            ["job": job, "type": "heartbeat"],
        ].map { String(data: try! JSONSerialization.data(withJSONObject: $0, options: [.sortedKeys]), encoding: .utf8)! }
        try cli.ok(["ingest", "-"], stdin: lines.joined(separator: "\n") + "\n")
        for args in [["jobs"], ["replay", job], ["explain", job], ["status", job]] {
            let out = try cli.ok(args)
            #expect(!out.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x07 || $0.value == 0x202E }, "\(args)")
            if args[0] != "replay" { #expect(out.contains(#"evil\e[31mred\nforged row"#), "\(args): \(out)") }
        }
        #expect(try cli.ok(["explain", job]).contains(#"line1\nline2\u{202E}"#))
        // JSON stays exact: parsing it gives the id back byte for byte.
        let json = try cli.ok(["status", job, "--json"])
        let object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
        #expect((object?["job"] as? String).map { $0.utf8.elementsEqual(job.utf8) } == true)
    }

    @Test func tableColumnsAlignByDisplayWidth() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        let ids = ["日本語のジョブ", "ab", "🚀-launch", "cafe\u{301}"]
        try cli.ok(["ingest", "-"], stdin: ids.map { #"{"job":"\#($0)","type":"started","node":"n"}"# }.joined(separator: "\n"))
        let rows = try cli.ok(["jobs"]).split(separator: "\n").map(String.init)
        // The STATUS column starts at the same terminal column on every row.
        let columns = rows.map { row -> Int in
            let prefix = row.components(separatedBy: row.hasPrefix("JOB") ? "STATUS" : "running")[0]
            return prefix.displayWidthForTest
        }
        #expect(Set(columns).count == 1, "\(rows)")
    }
}

extension String {
    /// Independent of the CLI's own measure: wide = CJK ideographs, kana and emoji; combining marks 0.
    var displayWidthForTest: Int {
        reduce(0) { width, c in
            let v = c.unicodeScalars.first!.value
            let wide = (0x3040...0x30FF).contains(v) || (0x4E00...0x9FFF).contains(v) || (0x1F300...0x1F6FF).contains(v)
            return width + (wide ? 2 : 1)
        }
    }
}
