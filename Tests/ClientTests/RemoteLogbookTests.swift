import Foundation
import LogbookClient
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// LogbookClient against a real `logbook serve` process (docs/client.md).
@Suite(.serialized, .timeLimit(.minutes(3))) struct RemoteLogbookTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// A `logbook serve` on a fresh journal, restartable on its port.
    final class Service: @unchecked Sendable {
        let dir = TemporaryDirectory("client")
        let port = HTTPProbe.freePort()
        var arguments: [String] = []
        private var process: ChildProcess?
        var journal: String { dir.file("served.journal") }
        var url: URL { URL(string: "http://127.0.0.1:\(port)")! }

        init(token: String? = nil) throws {
            arguments = ["--journal", journal, "serve", "--port", String(port)]
            if let token {
                let file = dir.file("token")
                try token.write(toFile: file, atomically: true, encoding: .utf8)
                arguments += ["--token-file", file]
            }
            try start()
        }

        func start() throws {
            process = try ChildProcess(builtExecutable("logbook"), arguments)
            #expect(HTTPProbe.poll(port: port, "/healthz") { $0.status == 200 } != nil, "\(process?.diagnosis ?? "")")
        }

        func kill9() { process?.kill9() }

        func cli(_ args: [String]) throws -> ProcessOutput {
            try TestSupport.run(builtExecutable("logbook"), ["--journal", journal] + args)
        }

        deinit {
            process?.kill9()
            dir.cleanup()
        }
    }

    /// The generated code is docs/openapi.yaml's: Tools/generate-client.sh records the document's
    /// SHA-256 beside what it generated; a changed document fails here until it is run again.
    @Test func theGeneratedClientIsCurrent() throws {
        let recorded = try String(
            contentsOf: Self.root.appendingPathComponent("Sources/LogbookClient/Generated/openapi.sha256"), encoding: .utf8)
        let now = try TestSupport.run("/usr/bin/sha256sum", [Self.root.appendingPathComponent("docs/openapi.yaml").path])
        #expect(now.stdout.split(separator: " ").first.map(String.init) == recorded.trimmingCharacters(in: .whitespacesAndNewlines),
            "docs/openapi.yaml changed: run Tools/generate-client.sh")
    }

    @Test func appendsCarryIdsReadsAnswerLogbooksValuesAndTheTokenIsSent() async throws {
        let service = try Service(token: "s3cret")
        let remote = RemoteLogbook(url: service.url, token: "s3cret")
        let created = try await remote.append([Event(job: "a", type: .created), Event(job: "b", type: .created, data: #"{"k":[1,2]}"#)])
        #expect(created.seqs == [1, 2] && !created.replayed && created.states.map(\.job) == ["a", "b"])
        let exported = try service.cli(["export"]).stdout
        #expect(exported.components(separatedBy: #""id":""#).count == 3, "every event got an id: \(exported)")
        let id = EventID.random()
        let first = try await remote.append(Event(job: "a", type: .started, node: "n", attempt: 1, id: id))
        let retry = try await remote.append(Event(job: "a", type: .started, node: "n", attempt: 1, id: id))
        #expect(retry.replayed && retry.seqs == first.seqs)
        let a = try #require(try await remote.state(of: "a"))
        #expect(a.status == .running && a.attempt == 1 && a.node == "n" && a.version == 2)
        #expect(try await remote.state(of: "nobody") == nil)
        #expect(try await remote.jobs(JobQuery(statuses: [.running])).map(\.job) == ["a"])
        do {
            _ = try await remote.append(Event(job: "a", type: .heartbeat), expectedVersion: 1)
            Issue.record("a stale expected version was accepted")
        } catch RemoteLogbookError.versionConflict(let expected, let current, _) {
            #expect(expected == 1 && current == 2)
        }
        var events: [RecordedEvent] = []
        for try await event in remote.follow(after: 0) {
            events.append(event)
            if events.count == 3 { break }
        }
        #expect(events.map(\.seq) == [1, 2, 3] && events[1].event.data == #"{"k":[1,2]}"# && events[2].event.id == id)
        let wrong = RemoteLogbook(url: service.url, token: "wrong")
        await #expect(throws: RemoteLogbookError.self) { _ = try await wrong.state(of: "a") }
    }

    /// A cancel from the CLI (another process, appending to the served journal) reaches the remote
    /// body through its job's event stream, without waiting for its next heartbeat's answer.
    @Test func aCancelFromTheCLIStopsARemoteBody() async throws {
        let service = try Service()
        let remote = RemoteLogbook(url: service.url)
        let started = AsyncStream<Void>.makeStream()
        let run = Task {
            try await remote.run(job: "crawl", node: "worker-a", heartbeatEvery: .seconds(3600)) { job in
                started.continuation.yield()
                while true { try await Task.sleep(for: .milliseconds(10)) }
            }
        }
        for await _ in started.stream { break }
        let cancel = try service.cli(["cancel", "crawl", "--reason", "operator"])
        #expect(cancel.status == 0, "\(cancel.stderr)")
        let state = try await run.value
        #expect(state.status == .cancelled && state.decidedReason == "operator")
        let events = try service.cli(["export", "--job", "crawl"]).stdout.split(separator: "\n")
        #expect(events.count == 2, "started, cancelled: the run appended nothing after the cancel: \(events)")
    }

    /// The service is killed and restarted while a remote run heartbeats: the appends that met the
    /// dead service are retried with their ids until it is back, and each is stored once.
    @Test func aRunSurvivesARestartOfTheServiceAndStoresEachEventOnce() async throws {
        let service = try Service()
        let remote = RemoteLogbook(url: service.url, retry: .init(initialDelay: .milliseconds(20), maxDelay: .milliseconds(200), giveUpAfter: .seconds(60)))
        let progressed = AsyncStream<Int>.makeStream()
        let run = Task {
            try await remote.run(job: "long", node: "worker-a", heartbeatEvery: .milliseconds(50)) { job in
                for i in 0..<40 {
                    try await job.progress(index: UInt64(i))
                    progressed.continuation.yield(i)
                    try await Task.sleep(for: .milliseconds(20))
                }
            }
        }
        for await i in progressed.stream where i == 10 { break }
        service.kill9()
        try service.start()
        let state = try await run.value
        #expect(state.status == .completed && state.index == 39, "\(state)")
        service.kill9()
        let verify = try service.cli(["verify"])
        #expect(verify.status == 0, "\(verify.stderr)")
        let lines = try service.cli(["export", "--job", "long"]).stdout.split(separator: "\n")
        #expect(lines.filter { $0.contains(#""type":"progress""#) }.count == 40, "each progress once")
        #expect(lines.filter { $0.contains(#""type":"completed""#) }.count == 1)
        #expect(lines.allSatisfy { $0.contains(#""id":""#) }, "every event has an id")
    }

    /// Tools/RemoteWorkerExample runs against a service and prints what docs/client.md shows, and
    /// docs/client.md shows the program verbatim.
    @Test func theRemoteWorkerExampleRunsAndDocsShowItVerbatim() throws {
        let service = try Service()
        let out = try TestSupport.run(builtExecutable("RemoteWorkerExample"), [service.url.absoluteString])
        #expect(out.status == 0, "\(out.stderr)")
        let doc = try String(contentsOf: Self.root.appendingPathComponent("docs/client.md"), encoding: .utf8)
        let program = try String(contentsOf: Self.root.appendingPathComponent("Tools/RemoteWorkerExample/main.swift"), encoding: .utf8)
        #expect(doc.contains("```swift\n" + program + "```\n"), "docs/client.md does not show the example verbatim")
        #expect(!out.stdout.isEmpty && doc.contains("Its output:\n\n```\n" + out.stdout + "```\n"), "\(out.stdout)")
    }
}

/// Two `logbook serve --postgres` nodes on one shared log: a remote worker runs on one, and a cancel
/// sent to the other reaches its body (through the shared log, the first node's follower, and the
/// job's event stream).
@Suite(.enabled(if: PostgresServer.available), .serialized, .timeLimit(.minutes(3))) struct RemoteLogbookOnASharedLogTests {
    @Test func aWorkerOnOneNodeIsStoppedByACancelOnTheOther() async throws {
        let server = try PostgresServer()
        defer { server.stop() }
        let dir = TemporaryDirectory("client-pg")
        defer { dir.cleanup() }
        var nodes: [(ChildProcess, URL)] = []
        defer { for (process, _) in nodes { process.kill9() } }
        for i in 0..<2 {
            let port = HTTPProbe.freePort()
            let process = try ChildProcess(
                builtExecutable("logbook"),
                ["--journal", dir.file("node-\(i).journal"), "--postgres", server.url, "serve", "--port", String(port)])
            #expect(HTTPProbe.poll(port: port, "/healthz") { $0.status == 200 } != nil, "\(process.diagnosis)")
            nodes.append((process, URL(string: "http://127.0.0.1:\(port)")!))
        }
        let worker = RemoteLogbook(url: nodes[0].1)
        let operator_ = RemoteLogbook(url: nodes[1].1)
        let started = AsyncStream<Void>.makeStream()
        let run = Task {
            try await worker.run(job: "shared", node: "worker-a", heartbeatEvery: .seconds(3600)) { _ in
                started.continuation.yield()
                while true { try await Task.sleep(for: .milliseconds(10)) }
            }
        }
        for await _ in started.stream { break }
        // The other node may not have applied the start yet: its state says when it has.
        while try await operator_.state(of: "shared")?.status != .running { try await Task.sleep(for: .milliseconds(20)) }
        let id = EventID.random()
        let cancel = try await operator_.append(Event(job: "shared", type: .cancelled, reason: "operator", id: id))
        #expect(cancel.state.status == .cancelled)
        #expect(try await operator_.append(Event(job: "shared", type: .cancelled, reason: "operator", id: id)).replayed)
        let state = try await run.value
        #expect(state.status == .cancelled && state.decidedReason == "operator")
        #expect(try await worker.state(of: "shared")?.version == 2, "started, cancelled: once each, nothing after")
    }
}
