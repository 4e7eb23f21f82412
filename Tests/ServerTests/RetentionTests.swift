import Foundation
import Hummingbird
import HummingbirdTesting
import Logbook
import Logging
import NIOCore
@testable import LogbookServer
import TestSupport
import Testing

/// `serve --drop-superseded-heartbeats-every`: one run of retention drops what is superseded, and
/// `/healthz` and `/metrics` say what it did.
@Suite struct RetentionTests {
    @Test func aRunDropsSupersededHeartbeatsAndHealthAndMetricsSaySo() async throws {
        let dir = TemporaryDirectory("retention")
        defer { dir.cleanup() }
        var options = Logbook.Options()
        options.durability = .noSync
        let path = dir.file("r.journal")
        let logbook = try Logbook.open(at: path, options: options)
        defer { logbook.close() }
        for job in 0..<3 {
            _ = try await logbook.append(Event(job: "j\(job)", type: .started, node: "n", attempt: 1))
            for _ in 0..<10 { _ = try await logbook.append(Event(job: "j\(job)", type: .heartbeat, attempt: 1)) }
        }
        let before = logbook.jobs(JobQuery())
        let status = RetentionStatus()
        let metrics = ServerMetrics()
        let retention = Retention(logbook: logbook, interval: .seconds(3600), status: status, metrics: metrics, logger: Logger(label: "test"))
        let run = await retention.runOnce()
        #expect(run.dropped == 27 && run.error == nil)
        #expect(logbook.jobs(JobQuery()) == before, "no state changes")
        #expect(try Logbook.Maintenance.eventCount(at: path) == 6)
        let app = buildApplication(configuration: ServerConfiguration(), logbook: logbook, metrics: metrics, retention: status)
        try await app.test(.router) { client in
            let health = try await client.execute(uri: "/healthz", method: .get) { String(buffer: $0.body) }
            #expect(health.contains(#""retention":{"lastRun":""#) && health.contains(#""dropped":27,"prunedTotal":27,"error":null}"#), "\(health)")
            let text = try await client.execute(uri: "/metrics", method: .get) { String(buffer: $0.body) }
            #expect(text.contains("logbook_pruned_events_total 27"), "\(text)")
            #expect(text.contains("logbook_retention_last_run_timestamp_seconds"))
        }
        #expect(await retention.runOnce().dropped == 0, "nothing left to drop")
        #expect(status.pruned == 27)
    }
}
