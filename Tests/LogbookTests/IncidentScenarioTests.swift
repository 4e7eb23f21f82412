import Logbook
import Testing

/// The four incidents of the seed reports, replayed against Logbook, with the answers a correct
/// system gives. The event sequences follow the reports' timelines.
@Suite struct IncidentScenarioTests {
    /// Seed 000: a user cancels a scan; the still-running loop keeps reporting; shutdown marks it
    /// interrupted; restart resumes it; the user cancels again.
    @Test func cancelledScanIsNeverResurrected() async throws {
        try await withLogbook { logbook, _ in
            let scan = "scan-3"
            _ = try await logbook.append([
                e(scan, .created, at: 0), e(scan, .started, at: 1, node: "osiris", attempt: 1),
                e(scan, .progress, at: 60, index: 1200, attempt: 1),
            ])
            let cancel = try await logbook.append(e(scan, .cancelled, at: 120, reason: "cancelled by user"))
            // Bug 1 of the report: the loop never heard of the cancel. Here its next heartbeat answers "cancelled".
            let heartbeat = try await logbook.append(e(scan, .progress, at: 130, index: 1300, attempt: 1))
            #expect(heartbeat.state.status == .cancelled)
            #expect(heartbeat.state.terminal)
            // Bug 2: the shutdown handler overwrote the status; restart resumed it.
            _ = try await logbook.append(e(scan, .interrupted, at: 200, reason: "shutdown", attempt: 1))
            #expect(logbook.jobs(JobQuery(resumable: true)).isEmpty, "a cancelled scan is never resumable")
            _ = try await logbook.append(e(scan, .resumed, at: 300, node: "sokaris", attempt: 2))
            // Bug 3: the second cancel is kept too, and says why it changed nothing.
            let again = try await logbook.append(e(scan, .cancelled, at: 400, reason: "cancelled by user"))
            let s = again.state
            #expect(s.status == .cancelled)
            #expect(s.decidedBy == cancel.events[0].seq)
            #expect(s.decidedReason == "cancelled by user")
            #expect(s.attempt == 1, "the resume opened no attempt")
            #expect(s.anomalies.map(\.message) == [
                "progress after cancelled at seq 4: ignored",
                "interrupted after cancelled at seq 4: ignored",
                "resumed after cancelled at seq 4: ignored",
                "cancelled after cancelled at seq 4: ignored",
            ])
            #expect(logbook.jobs(JobQuery(statuses: [.running])).isEmpty)
            #expect(logbook.jobs(JobQuery(unfinalized: true)).map(\.job) == [scan])
        }
    }

    /// Seed 001: two nodes race to finalize a finished task; a requeue races a concurrent start.
    @Test func firstTerminalDecidesAndTheOutboxDrainsOnce() async throws {
        try await withLogbook { logbook, _ in
            let task = "task-42"
            _ = try await logbook.append([e(task, .created, at: 0), e(task, .started, at: 1, node: "node-a", attempt: 1)])
            let completed = try await logbook.append(e(task, .completed, at: 50, node: "node-a", attempt: 1))
            // node-b's runner reconciler thinks the runner was lost and fails the task.
            let failed = try await logbook.append(e(task, .failed, at: 51, node: "node-b", reason: "runner lost"))
            #expect(failed.state.status == .completed)
            #expect(failed.state.decidedBy == completed.events[0].seq)
            // The slot is still held: the task is in the outbox any node can drain.
            #expect(logbook.jobs(JobQuery(unfinalized: true)).map(\.job) == [task])
            let first = try await logbook.append(e(task, .finalized, at: 52, node: "node-b"))
            #expect(first.state.finalized)
            #expect(logbook.jobs(JobQuery(unfinalized: true)).isEmpty)
            let second = try await logbook.append(e(task, .finalized, at: 53, node: "node-a"))
            #expect(second.state.anomalies.last?.message == "finalized again: ignored")

            // The requeue race: a reconciler reads version 1 and decides to requeue, but a start lands first.
            let other = "task-43"
            let created = try await logbook.append(e(other, .created, at: 100))
            let seen = created.state.version
            _ = try await logbook.append(e(other, .started, at: 101, node: "node-a", attempt: 1))
            await #expect(throws: JournalError.versionConflict(job: other, expected: seen, actual: seen + 1)) {
                try await logbook.append(e(other, .interrupted, at: 102, reason: "requeue"), expectedVersion: seen)
            }
            #expect(logbook.state(of: other)?.status == .running)
        }
    }

    /// Seed 002: the watchdog read the previous attempt's log, so a 20-hour stall went unnoticed.
    @Test func stallIsMeasuredWithinTheCurrentAttemptOnly() async throws {
        try await withLogbook { logbook, _ in
            let crawl = "crawl-hc-6"
            _ = try await logbook.append([
                e(crawl, .created, at: 0), e(crawl, .started, at: 10, node: "vps", attempt: 1),
                e(crawl, .progress, at: 3_600, index: 299, attempt: 1),
                e(crawl, .interrupted, at: 3_700, reason: "worker restart"),
                e(crawl, .resumed, at: 3_800, node: "vps", attempt: 2),
            ])
            // The old attempt's process is still alive and logging: its progress must not count.
            let zombie = try await logbook.append(e(crawl, .progress, at: 40_000, index: 300, attempt: 1))
            #expect(zombie.state.anomalies.last?.message == "progress from attempt 1 while attempt 2 runs on vps: ignored")
            // The new attempt heartbeats (alive) but never progresses.
            for hour in 1...20 {
                _ = try await logbook.append(e(crawl, .heartbeat, at: 3_800 + Int64(hour) * 3_600, attempt: 2))
            }
            let now = t(3_800 + 20 * 3_600 + 60)
            let stalled = logbook.jobs(JobQuery(stalledFor: 3_600_000_000, now: now))
            #expect(stalled.map(\.job) == [crawl])
            #expect(stalled.first?.lastSignOfProgress == t(3_800))
            #expect(logbook.jobs(JobQuery(silentFor: 3_600_000_000, now: now)).isEmpty, "it is alive, only stuck")
        }
    }

    /// Seed 003: a hung worker never timed out, and one user's cancel killed a download others wanted.
    @Test func onlyTheLastReleaseCancelsAndSilentWorkersAreFound() async throws {
        try await withLogbook { logbook, _ in
            let dl = "download-7"
            _ = try await logbook.append([
                e(dl, .created, at: 0), e(dl, .refAcquired, at: 1, holder: "alice"),
                e(dl, .refAcquired, at: 2, holder: "bob"), e(dl, .refAcquired, at: 3, holder: "alice"),
                e(dl, .started, at: 4, node: "worker-1", attempt: 1),
            ])
            let aliceCancels = try await logbook.append(e(dl, .refReleased, at: 10, holder: "alice"))
            #expect(aliceCancels.state.status == .running, "bob still wants it")
            #expect(aliceCancels.state.refs == ["bob"])
            let stranger = try await logbook.append(e(dl, .refReleased, at: 11, holder: "carol"))
            #expect(stranger.state.anomalies.last?.message == "refReleased by carol, who holds no ref: ignored")
            // The worker hangs: no heartbeat for 10 minutes. The reaper's query finds it.
            let silent = logbook.jobs(JobQuery(silentFor: 300_000_000, now: t(4 + 600)))
            #expect(silent.map(\.job) == [dl])
            let bobCancels = try await logbook.append(e(dl, .refReleased, at: 700, holder: "bob"))
            #expect(bobCancels.state.status == .cancelled)
            #expect(bobCancels.state.decidedReason == "lastRefReleased")
            #expect(bobCancels.state.decidedBy == bobCancels.events[0].seq)
        }
    }
}
