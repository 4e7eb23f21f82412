import Foundation
@testable import Logbook
import TestSupport
import Testing

/// `logbook.maintenance.dropSupersededHeartbeats()` inside an embedding process, beside its own
/// appends: it drops what the offline compaction drops, takes turns with the appends, and changes
/// no state.
@Suite struct OnlinePruneEmbeddedTests {
    static func seed(_ logbook: Logbook, jobs: Int, beats: Int) async throws {
        for job in 0..<jobs {
            var events = [Event(job: "j\(job)", type: .started, at: t(0), node: "n", attempt: 1)]
            for i in 0..<beats { events.append(Event(job: "j\(job)", type: .heartbeat, at: t(Int64(i + 1)), attempt: 1)) }
            _ = try await logbook.append(events)
        }
    }

    @Test func itDropsWhatTheOfflineCompactionDropsBesideAppendsAndNoStateChanges() async throws {
        try await withLogbook { logbook, path in
            try await Self.seed(logbook, jobs: 50, beats: 40)
            // What the offline compaction would drop, from a copy.
            let copy = path + ".copy"
            _ = try Logbook.Maintenance.backup(at: path, to: copy)
            let offline = try Logbook.Maintenance.compact(at: copy, dropSupersededHeartbeats: true, dryRun: true)
            let report = try await withThrowingTaskGroup(of: Logbook.Maintenance.PruneReport?.self) { group in
                group.addTask { try await logbook.maintenance.dropSupersededHeartbeats(step: 100) }
                group.addTask {
                    // Appends keep being answered while the drop runs (each step takes its turn).
                    for i in 0..<200 { _ = try await logbook.append(Event(job: "other-\(i % 7)", type: .created)) }
                    return nil
                }
                var report: Logbook.Maintenance.PruneReport?
                for try await r in group { report = report ?? r }
                return try #require(report)
            }
            #expect(report.dropped == offline.dropped && report.dropped == 50 * 39)
            #expect(report.steps == (50 * 39 + 99) / 100)
            #expect(Dictionary(uniqueKeysWithValues: report.droppedByJob) == Dictionary(uniqueKeysWithValues: offline.droppedByJob))
            let states = logbook.jobs(JobQuery())
            // A fresh fold of the pruned journal (another open of the same file) has the same states.
            let fresh = try Logbook.open(at: path, options: testOptions(readOnly: true))
            defer { fresh.close() }
            #expect(fresh.jobs(JobQuery()) == states)
            #expect(try Logbook.Maintenance.verify(at: path).records == 50 + 50 + 200)
            // A second run finds nothing left to drop.
            #expect(try await logbook.maintenance.dropSupersededHeartbeats().dropped == 0)
        }
    }

    /// The plan is read and carried out in windows of the log; any window size drops exactly what
    /// the offline rules drop (a heartbeat's successor, or its job's next event, is often in the
    /// next window), with clocks out of order in some jobs.
    @Test(arguments: [1, 7, 64, 100_000])
    func anyWindowDropsWhatTheOfflineRulesDrop(window: Int) async throws {
        try await withLogbook { logbook, path in
            for job in 0..<6 {
                var events = [Event(job: "j\(job)", type: .started, at: t(0), node: "n", attempt: 1)]
                for i in 0..<15 {
                    let skew: Int64 = job == 2 && i == 5 ? -100 : 0  // one clock step back
                    events.append(Event(job: "j\(job)", type: .heartbeat, at: t(Int64(i + 1) + skew), attempt: 1))
                }
                _ = try await logbook.append(events)
            }
            let copy = path + ".copy"
            _ = try Logbook.Maintenance.backup(at: path, to: copy)
            let offline = try Logbook.Maintenance.compact(at: copy, dropSupersededHeartbeats: true, dryRun: true)
            let report = try await Logbook.Maintenance.dropSupersededHeartbeats(
                in: logbook.journal, step: 5, dryRun: false, window: window)
            #expect(report.dropped == offline.dropped)
            #expect(Dictionary(uniqueKeysWithValues: report.droppedByJob) == Dictionary(uniqueKeysWithValues: offline.droppedByJob))
            let fresh = try Logbook.open(at: path, options: testOptions(readOnly: true))
            defer { fresh.close() }
            #expect(fresh.jobs(JobQuery()) == logbook.jobs(JobQuery()))
        }
    }
}
