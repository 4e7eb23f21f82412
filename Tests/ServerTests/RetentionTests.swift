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

    /// `serve --archive-every … --archive-after … --archive-to DIR`: a run moves the jobs quiet for
    /// long enough into a new dated bundle in DIR (none when nothing qualifies), the service's own
    /// queries forget them at once, and `/healthz` and `/metrics` say what it did.
    @Test func anArchiveRunMovesQuietJobsIntoADatedBundleAndHealthAndMetricsSaySo() async throws {
        let dir = TemporaryDirectory("archive")
        defer { dir.cleanup() }
        let bundles = dir.file("bundles")
        try FileManager.default.createDirectory(atPath: bundles, withIntermediateDirectories: false)
        var options = Logbook.Options()
        options.durability = .noSync
        let now = Timestamp(seconds: 1_780_272_000 + 100 * 86_400)
        options.clock = { now }
        let path = dir.file("r.journal")
        let logbook = try Logbook.open(at: path, options: options)
        defer { logbook.close() }
        let old = Timestamp(seconds: 1_780_272_000)
        for job in 0..<4 {
            _ = try await logbook.append([
                Event(job: "old-\(job)", type: .started, at: old, node: "n", attempt: 1),
                Event(job: "old-\(job)", type: .completed, at: old, attempt: 1), Event(job: "old-\(job)", type: .finalized, at: old),
            ])
        }
        _ = try await logbook.append([Event(job: "recent", type: .completed, at: now), Event(job: "recent", type: .finalized, at: now)])
        let status = RetentionStatus(drops: false, archives: true)
        let metrics = ServerMetrics()
        let schedule = Retention.ArchiveSchedule(every: .seconds(3600), afterMicroseconds: 90 * 86_400_000_000, directory: bundles)
        let retention = Retention(
            logbook: logbook, interval: nil, archive: schedule, status: status, metrics: metrics, logger: Logger(label: "test"),
            clock: { now })
        let run = await retention.archiveOnce()
        #expect(run.jobs == 4 && run.events == 12 && run.error == nil, "\(run)")
        #expect(run.bundle == bundles + "/archive-20260909T000000Z.jsonl")
        #expect(try FileManager.default.contentsOfDirectory(atPath: bundles) == ["archive-20260909T000000Z.jsonl"])
        #expect(logbook.jobs(JobQuery()).map(\.job) == ["recent"])
        let app = buildApplication(configuration: ServerConfiguration(), logbook: logbook, metrics: metrics, retention: status)
        try await app.test(.router) { client in
            let health = try await client.execute(uri: "/healthz", method: .get) { String(buffer: $0.body) }
            #expect(health.contains(#""archive":{"lastRun":"2026-09-09T00:00:00Z""#), "\(health)")
            #expect(health.contains(#""jobs":4,"events":12,"bundle":"\#(bundles)/archive-20260909T000000Z.jsonl","archivedTotal":4,"error":null}"#), "\(health)")
            #expect(!health.contains(#""retention":"#), "only what is scheduled shows")
            let text = try await client.execute(uri: "/metrics", method: .get) { String(buffer: $0.body) }
            #expect(text.contains("logbook_pruned_events_total 12") && text.contains("logbook_archived_jobs_total 4"), "\(text)")
        }
        let again = await retention.archiveOnce()
        #expect(again.jobs == 0 && again.bundle == nil && again.error == nil)
        #expect(try FileManager.default.contentsOfDirectory(atPath: bundles).count == 1, "no empty bundle")
        #expect(try Logbook.Maintenance.verify(at: path).records == 2)
    }
}
