import Foundation
import Hummingbird
import HummingbirdTesting
import Logbook
import Logging
import NIOCore
@testable import LogbookServer
import TestSupport
import ServiceLifecycle
import Testing

/// Endpoint tests through Hummingbird's router test framework, on a real journal in a temp dir.
@Suite struct ServerTests {
    func withServer(
        maxBodyBytes: Int = 1 << 20, token: String? = nil,
        _ body: @Sendable (any TestClientProtocol, Logbook) async throws -> Void
    ) async throws {
        let dir = TemporaryDirectory("server")
        defer { dir.cleanup() }
        var options = Logbook.Options()
        options.durability = .noSync
        let logbook = try Logbook.open(at: dir.file("s.journal"), options: options)
        defer { logbook.close() }
        var config = ServerConfiguration()
        config.maxBodyBytes = maxBodyBytes
        config.bearerToken = token
        let metrics = ServerMetrics()
        metrics.observe(logbook)
        let app = buildApplication(configuration: config, logbook: logbook, metrics: metrics)
        try await app.test(.router) { client in try await body(client, logbook) }
    }

    func post(_ client: any TestClientProtocol, _ job: String, _ json: String, ifMatch: String? = nil) async throws
        -> (HTTPResponse.Status, String)
    {
        var headers = HTTPFields()
        if let ifMatch { headers[.ifMatch] = ifMatch }
        return try await client.execute(
            uri: "/jobs/\(job)/events", method: .post, headers: headers, body: ByteBuffer(string: json)
        ) { ($0.status, String(buffer: $0.body)) }
    }

    func get(_ client: any TestClientProtocol, _ uri: String) async throws -> (HTTPResponse.Status, String) {
        try await client.execute(uri: uri, method: .get) { ($0.status, String(buffer: $0.body)) }
    }

    @Test func appendAnswers201WithSeqsAndStateAfterDurability() async throws {
        try await withServer { client, logbook in
            let (status, body) = try await post(client, "scan-3", #"{"type":"started","node":"n1","attempt":1}"#)
            #expect(status == .created)
            #expect(body.hasPrefix(#"{"seqs":[1],"state":{"job":"scan-3","status":"running""#))
            let (batch, batchBody) = try await post(client, "scan-3", #"[{"type":"cancelled"},{"type":"heartbeat","attempt":1}]"#)
            #expect(batch == .created)
            #expect(batchBody.contains(#""seqs":[2,3]"#))
            #expect(batchBody.contains(#""status":"cancelled""#), "the worker's heartbeat learns of the cancel")
            #expect(try logbook.maintenance.lastSeq() == 3)
        }
    }

    /// `POST /events`: one atomic batch over several jobs, answered with each job's state in the
    /// order the jobs first appear; a bad event (or an If-Match) refuses all of it.
    @Test func aBatchOverSeveralJobsIsAtomicAndAnswersEachJobsState() async throws {
        try await withServer { client, logbook in
            func postBatch(_ json: String, headers: HTTPFields = [:]) async throws -> (HTTPResponse.Status, String) {
                try await client.execute(uri: "/events", method: .post, headers: headers, body: ByteBuffer(string: json)) {
                    ($0.status, String(buffer: $0.body))
                }
            }
            let (status, body) = try await postBatch(
                #"[{"job":"b","type":"started","node":"n1"},{"job":"a","type":"created"},{"job":"b","type":"cancelled"}]"#)
            #expect(status == .created, "\(body)")
            #expect(body.hasPrefix(#"{"seqs":[1,2,3],"states":[{"job":"b","status":"cancelled""#), "\(body)")
            #expect(body.contains(#"},{"job":"a","status":"pending""#), "\(body)")
            let (missing, missingBody) = try await postBatch(#"[{"job":"c","type":"created"},{"type":"created"}]"#)
            #expect(missing == .badRequest && missingBody.contains(#"event 2: missing field \"job\""#), "\(missingBody)")
            var ifMatch = HTTPFields()
            ifMatch[.ifMatch] = "1"
            let (guarded, guardedBody) = try await postBatch(#"{"job":"c","type":"created"}"#, headers: ifMatch)
            #expect(guarded == .badRequest && guardedBody.contains("If-Match"), "\(guardedBody)")
            #expect(try logbook.maintenance.lastSeq() == 3, "nothing of a refused batch is stored")
            let (method, _) = try await client.execute(uri: "/events", method: .delete) { ($0.status, 0) }
            #expect(method == .methodNotAllowed)
        }
    }

    @Test func versionConflictIs409WithTheCurrentVersion() async throws {
        try await withServer { client, logbook in
            _ = try await post(client, "j", #"{"type":"created"}"#)
            let (ok, _) = try await post(client, "j", #"{"type":"started"}"#, ifMatch: "1")
            #expect(ok == .created)
            let (status, body) = try await post(client, "j", #"{"type":"interrupted","reason":"requeue"}"#, ifMatch: "\"1\"")
            #expect(status == .conflict)
            #expect(body.contains(#""currentVersion":2"#))
            #expect(try logbook.maintenance.lastSeq() == 2, "nothing stored")
            let (bad, badBody) = try await post(client, "j", #"{"type":"heartbeat"}"#, ifMatch: "soon")
            #expect(bad == .badRequest && badBody.contains("If-Match"))
        }
    }

    @Test(arguments: [
        (#"{"type":"exploded"}"#, #"field \"type\": unknown event type \"exploded\""#),
        (#"{"type":"refAcquired"}"#, #"field \"holder\": required for refAcquired"#),
        (#"{"job":"other","type":"created"}"#, "does not match the job in the path"),
        (#"[{"type":"created"},{"type":"progress","index":-3}]"#, #"event 2: field \"index\""#),
        (#"{"type":"created""#, "invalid JSON"),
        ("[]", "the array holds no events"),
    ])
    func badEventsAre400NamingTheField(json: String, message: String) async throws {
        try await withServer { client, logbook in
            let (status, body) = try await post(client, "j", json)
            #expect(status == .badRequest)
            #expect(body.contains(message), "\(body)")
            #expect(try logbook.maintenance.lastSeq() == 0)
        }
    }

    @Test func oversizedBodyIs413() async throws {
        try await withServer(maxBodyBytes: 1000) { client, logbook in
            let big = #"{"type":"progress","data":{"pad":""# + String(repeating: "x", count: 2000) + #""}}"#
            let (status, _) = try await post(client, "j", big)
            #expect(status == .contentTooLarge)
            #expect(try logbook.maintenance.lastSeq() == 0)
        }
    }

    @Test func theTimelinePagesWithACursorAndCarriesOnlyWhatChanged() async throws {
        try await withServer { client, _ in
            var batch = [#"{"type":"started","node":"n1","attempt":1}"#]
            for i in 1...4_999 {
                let at = Timestamp(seconds: 1_780_308_000 + Int64(i) * 30).rfc3339
                batch.append(#"{"type":"heartbeat","attempt":1,"at":""# + at + #""}"#)
            }
            for chunk in stride(from: 0, to: batch.count, by: 1000) {
                let (status, _) = try await post(client, "big", "[" + batch[chunk..<min(chunk + 1000, batch.count)].joined(separator: ",") + "]")
                #expect(status == .created)
            }
            let (ok, first) = try await get(client, "/jobs/big/timeline")
            #expect(ok == .ok)
            #expect(first.matches(of: /"event":/).count == 500 && first.hasSuffix(#""next":500}"# + "\n"))
            // Each entry carries what changed, not the whole state: a page of 500 stays small.
            #expect(first.utf8.count < 200_000, "\(first.utf8.count) bytes")
            #expect(!first.contains(#""anomalies":"#))
            let (_, last) = try await get(client, "/jobs/big/timeline?after=4990&limit=100")
            #expect(last.matches(of: /"event":/).count == 10 && last.hasSuffix(#""next":null}"# + "\n"))
            #expect(last.contains(#""changes":{"lastHeartbeatAt":"#))
            let (_, past) = try await get(client, "/jobs/big/timeline?after=5000")
            #expect(past.contains(#""entries":[]"#))
            #expect(try await get(client, "/jobs/big/timeline?limit=0").0 == .badRequest)
            #expect(try await get(client, "/jobs/big/timeline?limit=5001").0 == .badRequest)
            #expect(try await get(client, "/jobs/big/timeline?after=x").0 == .badRequest)
        }
    }

    @Test func queriesAndTimelineAnd404() async throws {
        try await withServer { client, _ in
            _ = try await post(client, "a", #"[{"type":"started","node":"n1","at":"2026-06-01T10:00:00Z"}]"#)
            _ = try await post(client, "b", #"[{"type":"started","node":"n2","at":"2026-06-01T10:00:00Z"},{"type":"interrupted"}]"#)
            #expect(try await get(client, "/jobs/nope").0 == .notFound)
            #expect(try await get(client, "/jobs/nope/timeline").0 == .notFound)
            let (ok, state) = try await get(client, "/jobs/a")
            #expect(ok == .ok && state.contains(#""status":"running""#))
            let (_, timeline) = try await get(client, "/jobs/b/timeline")
            #expect(timeline.hasPrefix(#"{"job":"b","entries":[{"event":{"seq":2"#) && timeline.contains(#""changes":{"status":"interrupted"}"#))
            #expect(timeline.hasSuffix(#"],"next":null}"# + "\n"))
            #expect(try await get(client, "/jobs?resumable=true").1.contains(#""job":"b""#))
            #expect(!(try await get(client, "/jobs?resumable=true").1.contains(#""job":"a""#)))
            #expect(try await get(client, "/jobs?status=running&node=n1").1.contains(#""job":"a""#))
            #expect(try await get(client, "/jobs?status=completed").1 == "[]\n")
            let silent = try await get(client, "/jobs?silentFor=5m&now=2026-06-01T10:06:00Z")
            #expect(silent.1.contains(#""job":"a""#))
            #expect(try await get(client, "/jobs?silentFor=5m&now=2026-06-01T10:04:00Z").1 == "[]\n")
            #expect(try await get(client, "/jobs?stalledFor=5m&now=2026-06-01T10:06:00Z").1.contains(#""job":"a""#))
            #expect(try await get(client, "/jobs?silentFor=soon").0 == .badRequest)
            #expect(try await get(client, "/jobs?status=sleeping").0 == .badRequest)
        }
    }

    @Test func healthAndMetrics() async throws {
        try await withServer { client, _ in
            _ = try await post(client, "a", #"[{"type":"started"},{"type":"heartbeat"},{"type":"cancelled"},{"type":"heartbeat"}]"#)
            let (status, health) = try await get(client, "/healthz")
            #expect(status == .ok && health.contains(#""lastSeq":4"#))
            let (_, metrics) = try await get(client, "/metrics")
            #expect(metrics.contains(#"logbook_events_appended_total{type="heartbeat"} 2"#))
            #expect(metrics.contains(#"logbook_jobs{status="cancelled"} 1"#))
            #expect(metrics.contains("logbook_anomalies 1"))
            #expect(metrics.contains("logbook_append_duration_seconds_count 1"))
            #expect(metrics.contains("logbook_group_commit_events_count 1"))
        }
    }

    @Test func serverSentEventsCanFollowOnlyNamedJobs() async throws {
        try await withServer { client, _ in
            for job in ["a", "b", "caf%C3%A9", "a", "b"] { _ = try await post(client, job, #"{"type":"created"}"#) }
            // Backlog only, so no timing: every frame before the limit is a's or café's, in seq order.
            let (status, body) = try await get(client, "/events?after=0&job=a&job=caf%C3%A9&limit=3")
            #expect(status == .ok)
            let ids = body.split(separator: "\n").filter { $0.hasPrefix("id: ") }
            #expect(ids == ["id: 1", "id: 3", "id: 4"])
            #expect(!body.contains(#""job":"b""#) && body.contains(#""job":"café""#))
            #expect(try await get(client, "/events?job=").0 == .badRequest)
        }
    }

    @Test func serverSentEventsDeliverAnAppendedEvent() async throws {
        try await withServer { client, logbook in
            _ = try await post(client, "a", #"{"type":"created"}"#)
            async let stream = get(client, "/events?after=1&limit=1")
            try await Task.sleep(for: .milliseconds(100))
            _ = try await post(client, "a", #"{"type":"started","node":"n9"}"#)
            let (status, body) = try await stream
            #expect(status == .ok)
            #expect(body.hasPrefix("id: 2\nevent: started\ndata: {\"seq\":2,\"version\":2,\"job\":\"a\",\"type\":\"started\""))
            // A reconnect resumes after the last id it saw.
            _ = try await post(client, "a", #"{"type":"heartbeat"}"#)
            var headers = HTTPFields()
            headers[.lastEventID] = "2"
            let resumed = try await client.execute(uri: "/events?limit=1", method: .get, headers: headers) { String(buffer: $0.body) }
            #expect(resumed.hasPrefix("id: 3\nevent: heartbeat"))
            #expect(try logbook.maintenance.lastSeq() == 3)
        }
    }
}

@Suite struct ReaperTests {
    static let t0 = Timestamp(seconds: 1_780_308_000)  // 2026-06-01T10:00:00Z

    /// A logbook with `events` appended and a reaper with a 60 s lease over it.
    func withReaper(_ events: [Event], _ body: (Logbook, Reaper) async throws -> Void) async throws {
        let dir = TemporaryDirectory("reaper")
        defer { dir.cleanup() }
        var options = Logbook.Options()
        options.durability = .noSync
        let logbook = try Logbook.open(at: dir.file("r.journal"), options: options)
        defer { logbook.close() }
        _ = try await logbook.append(events)
        let reaper = Reaper(logbook: logbook, leaseMicroseconds: 60_000_000, interval: .seconds(1), logger: Logger(label: "test"))
        try await body(logbook, reaper)
    }

    func at(_ seconds: Int64) -> Timestamp { Self.t0.adding(microseconds: seconds * 1_000_000) }

    @Test func reapsASilentJobAndLeavesAFreshOneAlone() async throws {
        try await withReaper([
            Event(job: "silent", type: .started, at: at(0), node: "n1", attempt: 1),
            Event(job: "fresh", type: .started, at: at(0), node: "n1", attempt: 1),
            Event(job: "fresh", type: .heartbeat, at: at(80), attempt: 1),
        ]) { logbook, reaper in
            let reaped = await reaper.reapOnce(now: at(100))
            #expect(reaped == ["silent"])
            #expect(logbook.state(of: "silent")?.status == .interrupted)
            #expect(logbook.state(of: "silent")?.anomalyCount == 0)
            #expect(logbook.state(of: "fresh")?.status == .running)
        }
    }

    /// Seed 003: a worker whose body hangs while its heartbeat timer still runs is never silent, only
    /// stalled. `jobs --stalled-for` finds it; a reaper with a stall timeout interrupts it, and the
    /// run cancels the hung body.
    @Test func aHungBodyThatStillHeartbeatsIsFoundAsStalledAndReaped() async throws {
        let dir = TemporaryDirectory("reaper")
        defer { dir.cleanup() }
        let path = dir.file("r.journal")
        let now = Shared(at(0))
        var options = Logbook.Options()
        options.durability = .noSync
        options.clock = { now.value }
        let logbook = try Logbook.open(at: path, options: options)
        defer { logbook.close() }
        let clock = ManualClock()
        let sawCancel = Shared(false)
        let run = Task {
            try await logbook.run(job: "download-7", node: "n1", heartbeatEvery: .seconds(30), clock: clock) { _ in
                do {
                    try await Task.sleep(for: .seconds(3600))  // hangs: no progress, ever
                } catch {
                    sawCancel.set(Task.isCancelled)
                    throw error
                }
            }
        }
        // Ten minutes of heartbeats and no progress.
        for minute in 1...10 {
            #expect(await clock.waitForSleepers(1))
            now.set(at(Int64(minute) * 60))
            clock.advance(by: .seconds(30))
            #expect(await eventually { logbook.state(of: "download-7")?.lastHeartbeatAt == at(Int64(minute) * 60) })
        }
        #expect(logbook.jobs(JobQuery(silentFor: 60_000_000, now: at(601))).isEmpty)  // never silent
        let cli = try TestSupport.run(
            builtExecutable("logbook"), ["--journal", path, "jobs", "--stalled-for", "5m", "--now", at(601).rfc3339])
        #expect(cli.status == 0, "\(cli.stderr)")
        #expect(cli.stdout.contains("download-7"))

        let reaper = Reaper(
            logbook: logbook, leaseMicroseconds: 60_000_000, stallMicroseconds: 300_000_000, interval: .seconds(1),
            logger: Logger(label: "test"))
        #expect(await reaper.reapOnce(now: at(601)) == ["download-7"])
        let final = try await value(of: run, within: patientSeconds)
        #expect(sawCancel.value)
        #expect(final.status == .interrupted)
        let last = try #require(try logbook.history(of: "download-7").last)
        #expect(last.event.event.type == .interrupted && last.event.event.reason == "stalled" && last.anomaly == nil)
    }

    @Test func withoutAStallTimeoutTheReaperLeavesAHeartbeatingJobAlone() async throws {
        try await withReaper([
            Event(job: "hung", type: .started, at: at(0), node: "n1", attempt: 1),
            Event(job: "hung", type: .heartbeat, at: at(590), attempt: 1),
        ]) { logbook, reaper in
            #expect(await reaper.reapOnce(now: at(600)).isEmpty)
            #expect(logbook.state(of: "hung")?.status == .running)
        }
    }

    @Test func aJobThatHeartbeatsAfterTheReaperReadItIsLeftAlone() async throws {
        try await withReaper([Event(job: "j", type: .started, at: at(0), node: "n1", attempt: 1)]) { logbook, reaper in
            let seen = logbook.jobs(JobQuery(silentFor: 60_000_000, now: at(120)))
            #expect(seen.map(\.job) == ["j"])
            // The worker heartbeats between the reaper's read and its write (the HA requeue race).
            _ = try await logbook.append(Event(job: "j", type: .heartbeat, at: at(119), attempt: 1))
            #expect(await reaper.reap(seen, reason: "leaseExpired").isEmpty)
            #expect(logbook.state(of: "j")?.status == .running)
            #expect(try logbook.maintenance.lastSeq() == 2, "the stale interrupt was not stored")
        }
    }
}

@Suite struct ShutdownTests {
    @Test func gracefulShutdownInterruptsTheNodesJobsWritesASnapshotAndCloses() async throws {
        let dir = TemporaryDirectory("shutdown")
        defer { dir.cleanup() }
        let path = dir.file("s.journal")
        var options = Logbook.Options()
        options.durability = .noSync
        let logbook = try Logbook.open(at: path, options: options)
        _ = try await logbook.append([
            Event(job: "mine", type: .started, node: "n1", attempt: 1),
            Event(job: "theirs", type: .started, node: "n2", attempt: 1),
        ])
        let logger = Logger(label: "test")
        let keeper = JournalKeeper(logbook: logbook, interruptNode: "n1", logger: logger)
        let group = ServiceGroup(configuration: .init(services: [.init(service: keeper)], logger: logger))
        async let running: Void = group.run()
        try await Task.sleep(for: .milliseconds(50))
        await group.triggerGracefulShutdown()
        try await running
        await #expect(throws: JournalError.closed) { try await logbook.append(Event(job: "late", type: .created)) }
        // A restart sees the shutdown's work: the snapshot covers it and the node's job is resumable.
        let reopened = try Logbook.open(at: path, options: options)
        defer { reopened.close() }
        #expect(reopened.openReport.snapshotSeq == 3)
        #expect(reopened.openReport.eventsFolded == 0)
        #expect(reopened.state(of: "mine")?.status == .interrupted)
        #expect(reopened.state(of: "theirs")?.status == .running)
    }
}
