import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Retries with event ids across crashes of the real service (docs/service.md, "Retries and event
/// ids"): a client that lost an answer, or whose service was killed mid-request, retries the same
/// batch until it is answered, and every event is stored exactly once.
@Suite(.serialized, .timeLimit(.minutes(3))) struct IdempotentRetryTests {
    final class Service {
        let cli: CLI
        let port = HTTPProbe.freePort()
        var process: ChildProcess?

        init(_ cli: CLI) { self.cli = cli }

        func start() throws {
            process = try ChildProcess(builtExecutable("logbook"), ["--journal", cli.journal, "serve", "--port", String(port)])
            #expect(HTTPProbe.poll(port: port, "/healthz") { $0.status == 200 } != nil, "\(process?.diagnosis ?? "")")
        }

        func kill9() { process?.kill9() }
    }

    static func batch(_ n: Int) -> (body: String, ids: [String]) {
        let ids = (0..<2).map { k in String(format: "%08x-0000-4000-8000-%012x", n, k) }
        let body = "[" + ids.enumerated().map { k, id in
            #"{"job":"job-\#(n % 5)","type":"\#(k == 0 ? "progress" : "heartbeat")","index":\#(n),"id":"\#(id)"}"#
        }.joined(separator: ",") + "]"
        return (body, ids)
    }

    /// The answer was lost after the commit (the service is killed right after it answered, and the
    /// client never read it): the retry after a restart stores nothing and gets the same seqs.
    @Test func aRetryAfterTheServiceDiedAnswersTheFirstSeqs() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        let service = Service(cli)
        try service.start()
        defer { service.kill9() }
        let (body, _) = Self.batch(1)
        let first = try #require(HTTPProbe.request(port: service.port, "POST", "/events", body: body))
        #expect(first.status == 201)
        service.kill9()
        try service.start()
        let retry = try #require(HTTPProbe.request(port: service.port, "POST", "/events", body: body))
        #expect(retry.status == 200 && retry.headers["idempotent-replayed"] == "true", "\(retry.status) \(retry.body)")
        #expect(retry.body.hasPrefix(#"{"seqs":[1,2],"#), "\(retry.body)")
        service.kill9()
        #expect(try cli.eventCount() == 2)
    }

    /// kill -9 at random moments while a client appends batches with ids: each request that got no
    /// answer is retried, with the same body, until one comes; at the end every id is stored once.
    @Test func retriesAcrossRandomKillsStoreEveryEventOnce() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        let service = Service(cli)
        try service.start()
        defer { service.kill9() }
        var generator = SystemRandomNumberGenerator()
        var replays = 0
        var kills = 0
        for n in 0..<40 {
            let (body, _) = Self.batch(n)
            var attempts = 0
            while true {
                attempts += 1
                #expect(attempts < 20, "batch \(n) never answered")
                if attempts >= 20 { return }
                let answer = Guarded<HTTPProbe.Response?>(nil)
                let sent = DispatchSemaphore(value: 0)
                let port = service.port
                Thread {
                    answer.withLock { $0 = HTTPProbe.request(port: port, "POST", "/events", body: body) }
                    sent.signal()
                }.start()
                // Every fourth batch, kill the service a moment after the request left: before, during
                // or after its commit.
                if n % 4 == 3 && attempts == 1 {
                    usleep(UInt32.random(in: 0...4_000, using: &generator))
                    service.kill9()
                    kills += 1
                    sent.wait()
                    try service.start()
                    continue
                }
                sent.wait()
                guard let response = answer.withLock({ $0 }) else { continue }
                #expect([200, 201].contains(response.status), "batch \(n): \(response.status) \(response.body)")
                if response.status == 200 { replays += 1 }
                break
            }
        }
        service.kill9()
        #expect(kills == 10)
        try cli.ok(["verify"])
        let exported = try cli.ok(["export"])
        for n in 0..<40 {
            for id in Self.batch(n).ids {
                #expect(exported.components(separatedBy: id).count == 2, "id \(id) is stored \(exported.components(separatedBy: id).count - 1) times")
            }
        }
        #expect(try cli.eventCount() == 80)
        print("random kills: \(kills), retries answered as replays: \(replays)")
    }
}

/// A lock around one value, for a thread's answer.
final class Guarded<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value
    init(_ value: Value) { self.value = value }
    func withLock<R>(_ body: (inout Value) -> R) -> R { lock.withLock { body(&value) } }
}
