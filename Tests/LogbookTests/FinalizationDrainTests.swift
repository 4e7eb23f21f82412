import Foundation
import Journal
import Logbook
import TestSupport
import Testing

/// `Logbook.drainFinalizations`: the outbox drained once across drainers (seed 001), never zero times.
@Suite struct FinalizationDrainTests {
    /// Terminal, unfinalized jobs `job-0` … `job-(n-1)`, ending in turn completed, failed and cancelled.
    func outbox(_ logbook: Logbook, jobs n: Int) async throws -> [String] {
        let names = (0..<n).map { "job-\($0)" }
        let ends: [EventType] = [.completed, .failed, .cancelled]
        for (i, job) in names.enumerated() {
            _ = try await logbook.append([
                Event(job: job, type: .started, node: "node-a", attempt: 1), Event(job: job, type: .heartbeat, attempt: 1),
                Event(job: job, type: ends[i % 3], attempt: 1),
            ])
        }
        return names
    }

    @Test func twoDrainersOverOneOutboxRunEverySideEffectOnce() async throws {
        try await withLogbook { logbook, _ in
            let jobs = try await outbox(logbook, jobs: 60)
            let runs = Shared([String: [String]]())  // job → holders whose side effect ran
            let reports = try await withThrowingTaskGroup(of: FinalizationReport.self) { group in
                for holder in ["node-a", "node-b"] {
                    group.addTask {
                        try await logbook.drainFinalizations(holder: holder, lease: .seconds(60)) { state in
                            runs.update { $0[state.job, default: []].append(holder) }
                            await Task.yield()  // let the other drainer in between claim and finalize
                        }
                    }
                }
                var all: [FinalizationReport] = []
                for try await r in group { all.append(r) }
                return all
            }
            #expect(Set(runs.value.keys) == Set(jobs))
            #expect(runs.value.values.allSatisfy { $0.count == 1 }, "\(runs.value.filter { $0.value.count != 1 })")
            let finalizedBy = reports.flatMap(\.finalized)
            #expect(finalizedBy.count == jobs.count && Set(finalizedBy) == Set(jobs))
            #expect(reports.allSatisfy { $0.failed.isEmpty })
            #expect(logbook.jobs(JobQuery(unfinalized: true)).isEmpty)
            for job in jobs {
                let history = try logbook.history(of: job)
                // One claim and one finalization each; the loser of a race stored nothing.
                #expect(history.filter { $0.event.event.type == .finalizing }.count == 1)
                #expect(history.filter { $0.event.event.type == .finalized }.count == 1)
                #expect(history.allSatisfy { $0.anomaly == nil })
                let state = try #require(logbook.state(of: job))
                #expect(state.finalized && state.finalizing?.holder == runs.value[job]?.first)
            }
        }
    }

    @Test func aDrainerPassingWhileAnotherIsMidEffectLeavesThatJobToIt() async throws {
        try await withLogbook { logbook, _ in
            let jobs = try await outbox(logbook, jobs: 3)
            let runs = Shared([String: Int]())
            let inEffect = Shared(false)
            let release = Shared(false)
            let slow = Task {
                try await logbook.drainFinalizations(holder: "node-b", lease: .seconds(60)) { state in
                    runs.update { $0[state.job, default: 0] += 1 }
                    guard state.job == "job-0" else { return }
                    inEffect.set(true)
                    while !release.value { try await Task.sleep(for: .milliseconds(2)) }
                }
            }
            #expect(await eventually { inEffect.value })
            // node-b holds job-0's claim and is inside its side effect: a whole pass by node-a now.
            let fast = try await logbook.drainFinalizations(holder: "node-a", lease: .seconds(60)) { state in
                runs.update { $0[state.job, default: 0] += 1 }
            }
            #expect(fast.leftToOthers == ["job-0"])
            #expect(Set(fast.finalized) == ["job-1", "job-2"])
            release.set(true)
            let slowReport = try await value(of: slow, within: patientSeconds)
            #expect(slowReport.finalized == ["job-0"])
            #expect(Set(slowReport.leftToOthers) == ["job-1", "job-2"])
            #expect(runs.value == Dictionary(uniqueKeysWithValues: jobs.map { ($0, 1) }))
        }
    }

    @Test func aLiveClaimOfAnotherDrainerIsLeftAloneAndAnExpiredOneIsTakenOver() async throws {
        let now = Shared(t(0))
        try await withLogbook(clock: { now.value }) { logbook, _ in
            _ = try await outbox(logbook, jobs: 1)
            // A drainer claimed the job, then died before its side effect finished.
            _ = try await logbook.append(Event(job: "job-0", type: .finalizing, holder: "node-dead"))
            now.set(t(59))
            let ran = Shared(0)
            let early = try await logbook.drainFinalizations(holder: "node-b", lease: .seconds(60)) { _ in ran.update { $0 += 1 } }
            #expect(early.leftToOthers == ["job-0"] && early.finalized.isEmpty)
            #expect(ran.value == 0)
            #expect(logbook.state(of: "job-0")?.awaitsFinalization == true)

            now.set(t(61))
            let late = try await logbook.drainFinalizations(holder: "node-b", lease: .seconds(60)) { _ in ran.update { $0 += 1 } }
            #expect(late.finalized == ["job-0"])
            #expect(ran.value == 1)
            let state = try #require(logbook.state(of: "job-0"))
            #expect(state.finalized)
            #expect(state.finalizing?.holder == "node-b" && state.finalizing?.at == t(61))
        }
    }

    @Test func aFailedSideEffectKeepsTheJobInTheOutboxForItsHolderToRetry() async throws {
        struct SlotServiceDown: Error {}
        let now = Shared(t(0))
        try await withLogbook(clock: { now.value }) { logbook, _ in
            _ = try await outbox(logbook, jobs: 2)
            let first = try await logbook.drainFinalizations(holder: "node-a", lease: .seconds(60)) { state in
                if state.job == "job-1" { throw SlotServiceDown() }
            }
            #expect(first.finalized == ["job-0"])
            #expect(first.failed.map(\.job) == ["job-1"])
            #expect(logbook.jobs(JobQuery(unfinalized: true)).map(\.job) == ["job-1"])
            // Another drainer respects node-a's claim while it is younger than the lease…
            now.set(t(10))
            let other = try await logbook.drainFinalizations(holder: "node-b", lease: .seconds(60)) { _ in
                Issue.record("node-b ran a side effect node-a holds")
            }
            #expect(other.leftToOthers == ["job-1"])
            // …while node-a itself retries at once.
            let retry = try await logbook.drainFinalizations(holder: "node-a", lease: .seconds(60)) { _ in }
            #expect(retry.finalized == ["job-1"])
            #expect(logbook.jobs(JobQuery(unfinalized: true)).isEmpty)
        }
    }

    @Test func theClaimSurvivesASnapshotAndAReopen() async throws {
        let dir = TemporaryDirectory("drain")
        defer { dir.cleanup() }
        let path = dir.file("jobs.journal")
        var before: JobState?
        do {
            let logbook = try Logbook.open(at: path, options: testOptions())
            defer { logbook.close() }
            _ = try await outbox(logbook, jobs: 1)
            _ = try await logbook.append(Event(job: "job-0", type: .finalizing, holder: "node-a"))
            _ = try await logbook.snapshot()
            before = logbook.state(of: "job-0")
        }
        let reopened = try Logbook.open(at: path, options: testOptions())
        defer { reopened.close() }
        #expect(reopened.openReport.snapshotSeq != nil)
        #expect(reopened.state(of: "job-0") == before)
        #expect(before?.finalizing?.holder == "node-a")
    }

    @Test func aFormatOneSnapshotStillDecodesWithoutClaims() throws {
        var state = JobState(job: "j")
        state.status = .completed
        state.version = 2
        let v2 = Logbook.encodeSnapshot(Projections(states: [state], coveredSeq: 2))
        // Format 1 is format 2 without the claim's presence byte (after job, status and finalized).
        var v1 = Array(v2.dropLast(4))
        v1[4] = 1
        v1.remove(at: 20 + 4 + 1 + 2)
        let crc = v1.withUnsafeBytes { Journal.checksum($0) }
        withUnsafeBytes(of: crc.littleEndian) { v1 += $0 }
        let decoded = try Logbook.decodeSnapshot(v1)
        #expect(decoded.states.count == 1 && decoded.state(of: "j") == state)
    }

    @Test func aClaimOnAJobThatIsNotTerminalIsADamagedSnapshot() throws {
        var state = JobState(job: "j")
        state.status = .completed
        state.version = 2
        state.finalizing = FinalizationClaim(holder: "h", seq: 2, at: t(0))
        let good = Logbook.encodeSnapshot(Projections(states: [state], coveredSeq: 2))
        #expect(try Logbook.decodeSnapshot(good).state(of: "j") == state)
        state.status = .running
        let forged = Logbook.encodeSnapshot(Projections(states: [state], coveredSeq: 2))
        #expect(throws: (any Error).self) { try Logbook.decodeSnapshot(forged) }
    }
}
