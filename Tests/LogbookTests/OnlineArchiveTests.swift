import Foundation
import Journal
@testable import Logbook
import TestSupport
import Testing

/// `archive` in place beside the writers: through the embedding API (`logbook.maintenance.archive`)
/// and from another process (`logbook archive` beside an open logbook), the projections, the
/// snapshot and the writer's version cache all end up as a fold of what the log holds.
@Suite struct OnlineArchiveTests {
    /// `finished` jobs completed and finalized at t(0)…t(3), `open` jobs still running.
    static func seed(_ logbook: Logbook, finished: Int, open: Int, beats: Int = 4) async throws {
        for j in 0..<finished {
            var events = [e("done-\(j)", .created, at: 0), e("done-\(j)", .started, at: 1, node: "n1", attempt: 1)]
            for i in 0..<beats { events.append(e("done-\(j)", .heartbeat, at: 2, index: UInt64(i), attempt: 1)) }
            events += [e("done-\(j)", .completed, at: 3, attempt: 1), e("done-\(j)", .finalized, at: 3)]
            _ = try await logbook.append(events)
            if j < open { _ = try await logbook.append(e("open-\(j)", .started, at: 1, node: "n2", attempt: 1)) }
        }
    }

    static func bundleLines(_ path: String) throws -> [String] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
    }

    /// What a fresh fold of the journal says: another open of the file, read-only.
    static func freshJobs(_ path: String) throws -> [JobState] {
        let fresh = try Logbook.open(at: path, options: testOptions(readOnly: true))
        defer { fresh.close() }
        return fresh.jobs(JobQuery())
    }

    @Test func itMovesWhatTheRulesMoveBesideAppendsAndTheProjectionsFollow() async throws {
        try await withLogbook { logbook, path in
            try await Self.seed(logbook, finished: 30, open: 10)
            try await logbook.snapshot()
            let keptBefore = logbook.jobs(JobQuery()).filter { !$0.job.hasPrefix("done-") }
            let bundle = path + ".bundle.jsonl"
            let report = try await withThrowingTaskGroup(of: Logbook.Maintenance.ArchiveReport?.self) { group in
                group.addTask { try await logbook.maintenance.archive(finalizedBefore: t(100), to: bundle, step: 20) }
                group.addTask {
                    for i in 0..<200 { _ = try await logbook.append(e("other-\(i % 7)", .heartbeat, at: 500)) }
                    return nil
                }
                var report: Logbook.Maintenance.ArchiveReport?
                for try await r in group { report = report ?? r }
                return try #require(report)
            }
            #expect(report.jobs == (0..<30).map { "done-\($0)" }.sorted())
            #expect(report.events == 30 * 8 && report.kept.isEmpty && report.finished == nil)
            #expect(report.steps == 15, "two jobs of eight records per step of 20")
            #expect(try Self.bundleLines(bundle).count == 30 * 8)
            // The logbook forgot them at once; the rest is as it was (plus the appends beside).
            #expect(logbook.state(of: "done-0") == nil)
            #expect(try logbook.history(of: "done-0").isEmpty)
            let now = logbook.jobs(JobQuery())
            #expect(now.filter { $0.job.hasPrefix("open-") } == keptBefore)
            #expect(now.map(\.job).sorted() == (try Self.freshJobs(path)).map(\.job).sorted())
            #expect(try Self.freshJobs(path) == now)
            // The snapshot taken before still loads right (it names the generation it had absorbed),
            // and one taken now too.
            #expect(try Logbook.Maintenance.verify(at: path).records == 10 + 200)
            try await logbook.snapshot()
            #expect(try Logbook.Maintenance.verify(at: path).snapshotSeq != nil)
            // Nothing left to archive.
            let again = try await logbook.maintenance.archive(finalizedBefore: t(100), to: path + ".none")
            #expect(again.jobs.isEmpty && !FileManager.default.fileExists(atPath: path + ".none"))
        }
    }

    @Test func aJobCreatedAgainAfterItsArchiveStartsAtVersionOne() async throws {
        try await withLogbook { logbook, path in
            try await Self.seed(logbook, finished: 3, open: 0)
            _ = try await logbook.append(e("done-1", .heartbeat, at: 4))  // the writer's cache knows done-1 at version 9
            _ = try await logbook.maintenance.archive(finalizedBefore: t(100), to: path + ".b")
            let outcome = try await logbook.append(e("done-1", .created, at: 500))
            #expect(outcome.events[0].version == 1)
            let state = try #require(outcome.states.values.first)
            #expect(state.status == .pending && state.version == 1 && state.anomalyCount == 0)
            #expect(try Self.freshJobs(path) == logbook.jobs(JobQuery()))
        }
    }

    /// `logbook archive` in another process: the open logbook learns of it at its next refresh (or
    /// its next own append), its writer forgets the removed jobs' versions, and a snapshot it wrote
    /// before learning of it still loads and verifies right.
    @Test func anotherProcessesArchiveReachesTheProjectionsTheWriterAndTheSnapshot() async throws {
        let dir = TemporaryDirectory("archive")
        defer { dir.cleanup() }
        let path = dir.file("test.journal")
        var options = testOptions()
        options.foreignAppendPollInterval = nil
        let logbook = try Logbook.open(at: path, options: options)
        defer { logbook.close() }
        try await Self.seed(logbook, finished: 6, open: 3)
        _ = try await logbook.append(e("done-2", .heartbeat, at: 4))  // cached at version 9

        let out = try run(
            builtExecutable("logbook"),
            ["--journal", path, "archive", "--finalized-before", "2026-06-01T01:00:00Z", "--to", dir.file("b.jsonl"), "--json"])
        #expect(out.status == 0, "\(out.stderr)")
        #expect(out.stdout.contains(#""steps":1"#), "\(out.stdout)")
        #expect(logbook.state(of: "done-0") != nil, "not refreshed yet")
        // A snapshot written before this logbook learnt of the removal still holds the jobs.
        try await logbook.snapshot()
        #expect(try Logbook.Maintenance.verify(at: path).snapshotSeq != nil)
        #expect(try Self.freshJobs(path).count == 3)

        // Its next own append folds the removal first: the job is new again.
        let outcome = try await logbook.append(e("done-2", .created, at: 500))
        #expect(outcome.events[0].version == 1)
        #expect(try #require(outcome.states.values.first).status == .pending)
        #expect(logbook.state(of: "done-0") == nil)
        try logbook.refresh()
        #expect(logbook.jobs(JobQuery()) == (try Self.freshJobs(path)))
        #expect(try Self.bundleLines(dir.file("b.jsonl")).count == 6 * 8 + 1)
    }

    @Test func theServiceClaimDoesNotStopAnArchiveFromAnotherProcess() async throws {
        try await withLogbook { logbook, path in
            try await Self.seed(logbook, finished: 2, open: 0)
            // The service's claim on the journal does not stop an archive from another process.
            try logbook.maintenance.claimService()
            let out = try run(
                builtExecutable("logbook"),
                ["--journal", path, "archive", "--finalized-before", "2026-06-01T01:00:00Z", "--to", path + ".b"])
            #expect(out.status == 0, "\(out.stderr)")
            #expect(out.stdout.hasPrefix("archived 2 jobs (16 events)"), "\(out.stdout)")
        }
    }

    @Test func anArchiveWhileAnotherRunsIsRefusedAndChangesNothing() async throws {
        try await withLogbook { logbook, path in
            try await Self.seed(logbook, finished: 2, open: 0)
            // This process runs an archive (holds the claim) while another process asks for one.
            let claim = try logbook.journal.claimArchive()
            let out = try run(
                builtExecutable("logbook"),
                ["--journal", path, "archive", "--finalized-before", "2026-06-01T01:00:00Z", "--to", path + ".b"])
            #expect(out.status == 1 && out.stderr.contains("is being archived by another process"), "\(out.stderr)")
            #expect(!FileManager.default.fileExists(atPath: path + ".b"))
            // And within this process, a second one is refused the same way.
            await #expect(throws: JournalError.maintenanceRunning(path: path)) {
                try await logbook.maintenance.archive(finalizedBefore: t(100), to: path + ".c")
            }
            claim.release()
            #expect(try await logbook.maintenance.archive(finalizedBefore: t(100), to: path + ".c").jobs.count == 2)
        }
    }

    /// A job that gains an event between the plan and its step is kept whole, and left out of the
    /// bundle; the others go. (The step is made to wait while the event is appended.)
    @Test func aJobThatGainsAnEventMeanwhileIsKeptAndLeftOutOfTheBundle() async throws {
        try await withLogbook { logbook, path in
            try await Self.seed(logbook, finished: 3, open: 0)
            let planned = try Logbook.Maintenance.archivePlan(in: logbook.journal, cutoff: t(100))
            #expect(planned.map(\.job) == ["done-0", "done-1", "done-2"])
            _ = try await logbook.append(e("done-1", .heartbeat, at: 7))  // a late worker: an anomaly, after the plan
            let removal = try await logbook.journal.removeJobs(planned, step: 1)
            #expect(removal.removed == ["done-0", "done-2"] && removal.changed == ["done-1"] && removal.steps == 3)
            // Run again (as after a kill): nothing is removed twice, the kept job stays kept.
            let again = try await logbook.journal.removeJobs(planned)
            #expect(again.removed.isEmpty && again.alreadyRemoved == ["done-0", "done-2"] && again.changed == ["done-1"])
            try logbook.refresh()
            #expect(logbook.jobs(JobQuery()).map(\.job) == ["done-1"])
            #expect(try Self.freshJobs(path) == logbook.jobs(JobQuery()))
        }
    }

    /// A run killed after its bundle was written (its plan recorded) is finished by the next
    /// archive, into that bundle: the jobs removed once, the one that changed meanwhile taken out of
    /// the bundle, the record cleared.
    @Test func theNextArchiveFinishesAKilledOneIntoItsBundle() async throws {
        try await withLogbook { logbook, path in
            try await Self.seed(logbook, finished: 3, open: 0)
            let bundle = path + ".bundle"
            let planned = try Logbook.Maintenance.archivePlan(in: logbook.journal, cutoff: t(100))
            // What a run does before it removes anything; then it is "killed".
            try await logbook.journal.setPendingArchive(Journal.PendingArchive(bundle: bundle, jobs: planned))
            _ = try Logbook.Maintenance.writeBundle(of: planned, from: logbook.journal, to: bundle)
            _ = try await logbook.journal.removeJobs(Array(planned.prefix(1)))
            _ = try await logbook.append(e("done-1", .heartbeat, at: 7))
            #expect(try logbook.journal.pendingArchive()?.jobs == planned)

            let report = try await logbook.maintenance.archive(finalizedBefore: t(100), to: path + ".next")
            #expect(report.finished?.bundle == bundle && report.finished?.jobs == 1, "done-2 now; done-0 before; done-1 kept")
            #expect(try logbook.journal.pendingArchive() == nil)
            let lines = try Self.bundleLines(bundle)
            #expect(lines.count == 2 * 8 && !lines.contains { $0.contains(#""job":"done-1""#) })
            // done-1, quiet since t(7), then went the normal way, into this run's own bundle: each job
            // in exactly one bundle.
            #expect(report.jobs == ["done-1"] && report.events == 9)
            #expect(try Self.bundleLines(path + ".next").count == 9)
            #expect(logbook.jobs(JobQuery()).isEmpty)
        }
    }
}
