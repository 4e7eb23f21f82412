import Foundation
import TestSupport
import Testing

/// The identity reproduction from the hardening issue, through the built binary: `café` in NFC and
/// in NFD are two jobs on disk, so they are two jobs in every command.
@Suite struct CLIIdentityTests {
    let nfc = "caf\u{E9}"
    let nfd = "cafe\u{301}"

    @Test func canonicallyEquivalentJobIDsAreTwoJobsInEveryCommand() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        try cli.ok(["append", "--job", nfc, "--type", "started", "--at", "2026-06-01T10:00:00Z"])
        try cli.ok(["append", "--job", nfd, "--type", "cancelled", "--at", "2026-06-01T10:01:00Z"])
        #expect(try cli.ok(["status", nfc, "--json"]).contains(#""status":"running""#))
        #expect(try cli.ok(["status", nfd, "--json"]).contains(#""status":"cancelled""#))
        #expect(try cli.ok(["status", nfd, "--until-seq", "9", "--json"]).contains(#""status":"cancelled""#))
        #expect(try cli.ok(["verify"]).hasPrefix("sound:"))
        // One ingest batch with both: each job counts its own versions.
        let batch = [nfd, nfc, nfd].map { #"{"job":"\#($0)","type":"heartbeat","at":"2026-06-01T10:02:00Z"}"# }
        try cli.ok(["ingest", "-"], stdin: batch.joined(separator: "\n") + "\n")
        let nfdReplay = try cli.ok(["replay", nfd, "--json"]).split(separator: "\n")
        #expect(nfdReplay.count == 3)
        #expect(nfdReplay.last?.contains(#""version":3"#) == true)
        #expect(try cli.ok(["replay", nfc, "--json"]).split(separator: "\n").last?.contains(#""version":2"#) == true)
        // A window export keeps both jobs' whole histories.
        let window = try cli.ok(["export", "--since", "2026-06-01T10:00:30Z"])
        #expect(window.split(separator: "\n").count == 5)
        #expect(try cli.ok(["jobs", "--json"]).components(separatedBy: #""job":"#).count - 1 == 2)
        #expect(try cli.ok(["stats", "--json"]).contains(#""jobs":2"#))
        #expect(try cli.ok(["verify"]).hasPrefix("sound:"))
    }

    @Test func aReleaseByAnEquivalentButDifferentHolderIsAnAnomaly() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        let holderNFC = "Jos\u{E9}"
        let holderNFD = "Jose\u{301}"
        try cli.ok(["append", "--job", "dl", "--type", "refAcquired", "--holder", holderNFC])
        try cli.ok(["append", "--job", "dl", "--type", "refReleased", "--holder", holderNFD])
        let status = try cli.ok(["status", "dl", "--json"])
        #expect(!status.contains(#""status":"cancelled""#))
        #expect(status.contains("who holds no ref: ignored"))
    }
}
