import Foundation
import TestSupport
import Testing

/// Runs the built `logbook` binary as a user would.
struct CLI {
    let dir: TemporaryDirectory
    var journal: String

    init() {
        dir = TemporaryDirectory("cli")
        journal = dir.file("test.journal")
    }

    @discardableResult
    func run(_ args: [String], stdin: String? = nil, journal: String? = nil) throws -> ProcessOutput {
        try TestSupport.run(
            builtExecutable("logbook"), ["--journal", journal ?? self.journal] + args, stdin: stdin.map { Data($0.utf8) })
    }

    /// Runs and requires exit 0, returning stdout.
    @discardableResult
    func ok(_ args: [String], stdin: String? = nil) throws -> String {
        let out = try run(args, stdin: stdin)
        #expect(out.status == 0, "logbook \(args.joined(separator: " ")) failed: \(out.stderr)")
        return out.stdout
    }

    func write(_ name: String, _ text: String) throws -> String {
        let path = dir.file(name)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func eventCount() throws -> Int {
        let out = try run(["stats", "--json"])
        guard out.status == 0, let data = out.stdout.data(using: .utf8),
            let object = try JSONSerialization.jsonObject(with: data) as? [String: Any], let n = object["events"] as? Int
        else { return 0 }
        return n
    }

    func cleanup() { dir.cleanup() }
}

/// A small journal in the ingest format: the scanner incident plus two healthy jobs.
let sampleLines = """
    {"job":"scan-3","type":"created","at":"2026-06-01T08:00:00Z","node":"osiris"}
    {"job":"scan-3","type":"started","at":"2026-06-01T08:00:02Z","node":"osiris","attempt":1}
    {"job":"scan-3","type":"cancelled","at":"2026-06-01T08:21:13Z","reason":"cancelled by user"}
    {"job":"scan-3","type":"interrupted","at":"2026-06-01T09:02:40Z","reason":"shutdown","attempt":1}
    {"job":"scan-3","type":"resumed","at":"2026-06-01T09:05:11Z","node":"sokaris","attempt":2}
    {"job":"a-job","type":"created","at":"2026-06-01T10:00:00Z","data":{"k":[1,2,3]}}
    {"job":"a-job","type":"started","at":"2026-06-01T10:00:01Z","node":"n1"}
    {"job":"a-job","type":"heartbeat","at":"2026-06-01T10:01:00Z"}
    {"job":"a-job","type":"heartbeat","at":"2026-06-01T10:02:00Z"}
    {"job":"a-job","type":"heartbeat","at":"2026-06-01T10:03:00Z"}
    {"job":"b-job","type":"started","at":"2026-06-01T10:00:00Z","node":"n2"}
    {"job":"b-job","type":"interrupted","at":"2026-06-01T10:30:00Z","reason":"leaseExpired"}

    """
