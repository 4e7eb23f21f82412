import Foundation
import TestSupport
import Testing

/// `--json` on the commands that print a result, `--version`, and stats' time span.
@Suite struct JSONOutputTests {
    @Test func ingestSnapshotCompactVerifyAndStatsAnswerInJSON() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        let lines = [
            #"{"job":"w","type":"started","node":"a","attempt":1,"at":"2026-06-01T10:00:00Z"}"#,
            #"{"job":"w","type":"heartbeat","attempt":1,"at":"2026-06-01T10:01:00Z"}"#,
            #"{"job":"w","type":"heartbeat","attempt":1,"at":"2026-06-01T10:02:00Z"}"#,
            // Stamped before the first: the span runs from it, not from seq 1's time.
            #"{"job":"early","type":"created","at":"2026-06-01T09:00:00Z"}"#,
        ]
        let ingest = try cli.ok(["ingest", try cli.write("in.jsonl", lines.joined(separator: "\n") + "\n"), "--json"])
        #expect(ingest == #"{"appended":4,"firstSeq":1,"lastSeq":4,"alreadyStored":false}"# + "\n")
        #expect(try cli.ok(["ingest", try cli.write("empty.jsonl", ""), "--json"]) == #"{"appended":0,"firstSeq":null,"lastSeq":null,"alreadyStored":false}"# + "\n")
        #expect(try cli.ok(["snapshot", "--json"]) == #"{"snapshotSeq":4,"jobs":2}"# + "\n")
        let dry = try cli.ok(["compact", "--drop-superseded-heartbeats", "--dry-run", "--json"])
        #expect(dry.hasPrefix(#"{"dryRun":true,"dropped":1,"bytesBefore":"#))
        #expect(try cli.ok(["verify", "--json"]) == #"{"sound":true,"records":4,"jobs":2,"snapshotSeq":4,"eventIDs":0}"# + "\n")
        let stats = try cli.ok(["stats", "--json"])
        #expect(stats.contains(#""firstAt":"2026-06-01T09:00:00Z","lastAt":"2026-06-01T10:02:00Z""#))
        #expect(try cli.ok(["stats"]).contains("time span:     2026-06-01T09:00:00Z ... 2026-06-01T10:02:00Z"))
    }

    @Test func aFailingVerifySaysSoInJSONAndExitsOne() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        _ = try cli.ok(["append", "--job", "victim-job-7f3a", "--type", "created", "--reason", "a reason to damage"])
        // Damage the record in place: its CRC no longer holds.
        var bytes = try Data(contentsOf: URL(fileURLWithPath: cli.journal))
        let needle = Data("a reason to damage".utf8)
        let at = try #require(bytes.range(of: needle)).lowerBound
        bytes[at] ^= 0x20
        try bytes.write(to: URL(fileURLWithPath: cli.journal))
        let out = try cli.run(["verify", "--json"])
        #expect(out.status == 1)
        #expect(out.stdout.hasPrefix(#"{"sound":false,"problem":"#) && out.stdout.contains("seq 1"))
    }

    @Test func versionNamesTheFormats() throws {
        let out = try run(builtExecutable("logbook"), ["--version"])
        #expect(out.status == 0 && out.stdout == "logbook 0.5.0 (record format 1, snapshot format 2)\n")
    }
}
