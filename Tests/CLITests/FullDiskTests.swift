import Foundation
import TestSupport
import Testing

/// Running out of disk (docs/operations.md, "When the disk fills"), on a real 8 MiB filesystem:
/// the CLI and the service name the full filesystem and the journal, exit 75 or answer 507, store
/// nothing of a refused write, lose nothing acknowledged, and work again once space is freed.
@Suite(.enabled(if: SmallFilesystem.available, "needs root to mount a small tmpfs"), .serialized)
struct FullDiskTests {
    static func lines(_ count: Int, from first: Int = 0) -> String {
        (first..<(first + count)).map { i in
            #"{"job":"job-\#(i % 300)","type":"heartbeat","attempt":1,"data":{"pad":"\#(String(repeating: "x", count: 100))"}}"#
        }.joined(separator: "\n") + "\n"
    }

    @Test func ingestIntoAFullFilesystemExits75NamingItAndStoresNothing() throws {
        let fs = try #require(SmallFilesystem(mebibytes: 8))
        defer { fs.unmount() }
        var cli = CLI()
        defer { cli.cleanup() }
        cli.journal = fs.file("full.journal")
        try cli.ok(["ingest", "-"], stdin: Self.lines(2_000))
        // A snapshot that cannot be written is refused the same way, and none is half-written.
        fs.fillUp("the-rest")
        let snapshot = try cli.run(["snapshot"])
        #expect(snapshot.status == 75, "\(snapshot.stdout) \(snapshot.stderr)")
        #expect(snapshot.stderr.contains("the filesystem is full"), "\(snapshot.stderr)")
        try cli.ok(["verify"])
        try FileManager.default.removeItem(atPath: fs.file("the-rest"))
        try fs.fill("other-data", mebibytes: 6)
        let refused = try cli.run(["ingest", "-"], stdin: Self.lines(60_000, from: 2_000))
        #expect(refused.status == 75, "\(refused.stderr)")
        #expect(refused.stderr.contains("journal \(cli.journal): the filesystem is full"), "\(refused.stderr)")
        #expect(refused.stderr.contains("nothing of it was stored"))
        #expect(try cli.eventCount() == 2_000, "nothing of the refused ingest is stored")
        try cli.ok(["verify"])
        // An operator frees space: the same ingest now succeeds, without any repair.
        try FileManager.default.removeItem(atPath: fs.file("other-data"))
        try cli.ok(["ingest", "-"], stdin: Self.lines(10_000, from: 2_000))
        #expect(try cli.eventCount() == 12_000)
        try cli.ok(["verify"])
    }

    @Test func theServiceAnswers507WhileFullReportsDegradedAndRecoversWhenSpaceIsFreed() throws {
        let fs = try #require(SmallFilesystem(mebibytes: 8))
        defer { fs.unmount() }
        var cli = CLI()
        defer { cli.cleanup() }
        cli.journal = fs.file("served.journal")
        try fs.fill("other-data", mebibytes: 6)
        let port = HTTPProbe.freePort()
        let serve = try ChildProcess(builtExecutable("logbook"), ["--journal", cli.journal, "serve", "--port", String(port)])
        defer { serve.kill9() }
        #expect(HTTPProbe.poll(port: port, "/healthz") { $0.status == 200 } != nil)
        // Several clients append batches of 50 until the filesystem refuses.
        let acknowledged = Acknowledged()
        DispatchQueue.concurrentPerform(iterations: 4) { client in
            for round in 0..<1_000 {
                let batch = (0..<50).map { k in
                    #"{"job":"c\#(client)-\#(round)-\#(k)","type":"started","node":"n","attempt":1,"data":{"pad":"\#(String(repeating: "y", count: 200))"}}"#
                }
                guard let answer = HTTPProbe.request(port: port, "POST", "/events", body: "[" + batch.joined(separator: ",") + "]") else { return }
                if answer.status == 201 {
                    acknowledged.add(50)
                    continue
                }
                acknowledged.refused(answer)
                return
            }
        }
        let refusal = try #require(acknowledged.firstRefusal, "the filesystem never filled")
        #expect(refusal.status == 507)
        #expect(refusal.headers["retry-after"] == "5", "\(refusal.headers)")
        #expect(refusal.body.contains("the filesystem is full") && refusal.body.contains(cli.journal), "\(refusal.body)")
        // With the clients stopped, a batch far larger than what is left is refused too, so health is
        // read while the last append was a refusal (a small append may still fit in a freed page).
        let large = (0..<2_000).map { k in #"{"job":"large-\#(k)","type":"created","data":{"pad":"\#(String(repeating: "z", count: 200))"}}"# }
        #expect(HTTPProbe.request(port: port, "POST", "/events", body: "[" + large.joined(separator: ",") + "]")?.status == 507)
        let health = try #require(HTTPProbe.request(port: port, "GET", "/healthz"))
        #expect(health.status == 200 && health.body.contains(#""status":"degraded""#) && health.body.contains("filesystem is full"), "\(health.body)")
        #expect(HTTPProbe.request(port: port, "GET", "/metrics")?.body.contains(#"logbook_storage_errors_total{kind="full"}"#) == true)
        // Space is freed: appends are stored again, without a restart, and health says so.
        try FileManager.default.removeItem(atPath: fs.file("other-data"))
        #expect(HTTPProbe.request(port: port, "POST", "/jobs/after/events", body: #"{"type":"created"}"#)?.status == 201)
        #expect(HTTPProbe.request(port: port, "GET", "/healthz")?.body.contains(#""status":"ok""#) == true)
        serve.kill9()
        // Every acknowledged event is there (and nothing of a refused batch), and the journal is sound.
        #expect(try cli.eventCount() == acknowledged.events + 1)
        try cli.ok(["verify"])
    }
}

/// What the clients were told, from several threads.
final class Acknowledged: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    private var refusal: HTTPProbe.Response?
    func add(_ n: Int) { lock.withLock { count += n } }
    func refused(_ r: HTTPProbe.Response) { lock.withLock { if refusal == nil { refusal = r } } }
    var events: Int { lock.withLock { count } }
    var firstRefusal: HTTPProbe.Response? { lock.withLock { refusal } }
}
