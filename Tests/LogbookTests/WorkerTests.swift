import Foundation
@testable import Logbook
import Lifecycle
import Synchronization
import TestSupport
import Testing

/// `Logbook.run`: one test per row of the table in docs/embedding.md, on a manual clock where time matters.
@Suite struct WorkerTests {
    /// What a body saw, for the test to check afterwards.
    final class Probe: Sendable {
        private let state = Mutex((started: false, sawCancellation: false, lateProgress: nil as String?))
        var started: Bool { state.withLock { $0.started } }
        var sawCancellation: Bool { state.withLock { $0.sawCancellation } }
        var lateProgress: String? { state.withLock { $0.lateProgress } }
        func start() { state.withLock { $0.started = true } }
        func cancelled() { state.withLock { $0.sawCancellation = Task.isCancelled } }
        func late(_ what: String) { state.withLock { $0.lateProgress = what } }

        /// A body that works until its task is cancelled, then records that it saw it.
        func untilCancelled(_ job: RunningJob) async throws {
            start()
            do {
                try await Task.sleep(for: .seconds(3600))
            } catch {
                cancelled()
                throw error
            }
        }
    }

    func options(pollEvery poll: Duration? = nil) -> Logbook.Options {
        var o = testOptions()
        o.foreignAppendPollInterval = poll
        return o
    }

    func types(_ logbook: Logbook, _ job: String) throws -> [EventType] { try logbook.history(of: job).map(\.event.event.type) }

    @Test func aBodyThatReturnsCompletesTheJobUnderItsAttempt() async throws {
        try await withLogbook { logbook, _ in
            _ = try await logbook.append(Event(job: "scan-3", type: .created))
            let final = try await logbook.run(job: "scan-3", node: "node-a", heartbeatEvery: .seconds(5), clock: ManualClock()) { job in
                #expect(job.attempt == 1)
                for i in 0..<3 { try await job.progress(index: UInt64(i)) }
            }
            #expect(final.status == .completed)
            #expect(final.attempt == 1 && final.node == "node-a" && final.index == 2)
            #expect(final.anomalyCount == 0)
            let history = try logbook.history(of: "scan-3")
            #expect(history.map(\.event.event.type) == [.created, .started, .progress, .progress, .progress, .completed])
            #expect(history.dropFirst().allSatisfy { $0.event.event.attempt == 1 })
        }
    }

    @Test func aBodyThatThrowsFailsTheJobWithTheErrorAsReason() async throws {
        struct DiskFull: Error, CustomStringConvertible { var description: String { "disk full at /data" } }
        try await withLogbook { logbook, _ in
            let final = try await logbook.run(job: "dl-1", node: "node-a", heartbeatEvery: .seconds(5), clock: ManualClock()) { _ in
                throw DiskFull()
            }
            #expect(final.status == .failed)
            #expect(final.decidedReason == "disk full at /data")
            #expect(try types(logbook, "dl-1") == [.started, .failed])
        }
    }

    @Test func aHugeErrorDescriptionIsCutToTheReasonLimitOnACharacter() async throws {
        struct Loud: Error, CustomStringConvertible { var description: String { String(repeating: "é", count: 3000) } }
        try await withLogbook { logbook, _ in
            let final = try await logbook.run(job: "j", node: "n", heartbeatEvery: .seconds(5), clock: ManualClock()) { _ in throw Loud() }
            #expect(final.status == .failed)
            #expect(final.decidedReason?.utf8.count == EventLimits.reasonBytes)
            #expect(final.decidedReason?.allSatisfy { $0 == "é" } == true)
        }
    }

    @Test func heartbeatsGoOutEveryIntervalWithTheAttempt() async throws {
        try await withLogbook { logbook, _ in
            let clock = ManualClock()
            let probe = Probe()
            let gate = Shared(false)
            let run = Task {
                try await logbook.run(job: "crawl", node: "node-a", heartbeatEvery: .seconds(5), clock: clock) { job in
                    probe.start()
                    while !gate.value { try await Task.sleep(for: .milliseconds(5)) }
                }
            }
            for beat in 1...3 {
                #expect(await clock.waitForSleepers(1))
                clock.advance(by: .seconds(5))
                #expect(await eventually { (try? types(logbook, "crawl").filter { $0 == .heartbeat }.count) == beat })
            }
            gate.set(true)
            let final = try await run.value
            #expect(final.status == .completed)
            let beats = try logbook.history(of: "crawl").filter { $0.event.event.type == .heartbeat }
            #expect(beats.count == 3 && beats.allSatisfy { $0.event.event.attempt == 1 && $0.anomaly == nil })
        }
    }

    @Test func aCancelInTheSameProcessCancelsTheBodyAtOnceAndNothingMoreIsAppended() async throws {
        try await withLogbook { logbook, _ in
            let probe = Probe()
            // The clock never moves: only the log can tell the run about the cancel.
            let run = Task {
                try await logbook.run(job: "scan-3", node: "node-a", heartbeatEvery: .seconds(5), clock: ManualClock()) {
                    try await probe.untilCancelled($0)
                }
            }
            #expect(await eventually { probe.started })
            let cancel = try await logbook.append(Event(job: "scan-3", type: .cancelled, reason: "cancelled by user"))
            let final = try await value(of: run, within: patientSeconds)
            #expect(probe.sawCancellation)
            #expect(final.status == .cancelled && final.decidedBy == cancel.seqs.first)
            #expect(final.decidedReason == "cancelled by user")
            #expect(try types(logbook, "scan-3") == [.started, .cancelled])  // no completed, no failed
        }
    }

    @Test func aCancelFromAnotherProcessThroughTheCLICancelsTheBody() async throws {
        let dir = TemporaryDirectory("worker")
        defer { dir.cleanup() }
        let path = dir.file("jobs.journal")
        let logbook = try Logbook.open(at: path, options: options(pollEvery: .milliseconds(50)))
        defer { logbook.close() }
        let probe = Probe()
        let run = Task {
            try await logbook.run(job: "scan-3", node: "node-a", heartbeatEvery: .seconds(5), clock: ManualClock()) {
                try await probe.untilCancelled($0)
            }
        }
        #expect(await eventually { probe.started })
        let cli = try TestSupport.run(
            builtExecutable("logbook"),
            ["--journal", path, "append", "--job", "scan-3", "--type", "cancelled", "--reason", "operator"])
        #expect(cli.status == 0, "\(cli.stderr)")
        let final = try await value(of: run, within: patientSeconds)
        #expect(probe.sawCancellation)
        #expect(final.status == .cancelled && final.decidedReason == "operator")
        #expect(try types(logbook, "scan-3") == [.started, .cancelled])
    }

    @Test func anAttemptReapedAndResumedElsewhereIsCancelledAtItsNextHeartbeatAndItsLateEventsAreAnomalies() async throws {
        let dir = TemporaryDirectory("worker")
        defer { dir.cleanup() }
        let path = dir.file("jobs.journal")
        // No foreign-append poll: this process learns of the other's events only from its own appends.
        let logbook = try Logbook.open(at: path, options: options(pollEvery: nil))
        defer { logbook.close() }
        let clock = ManualClock()
        let probe = Probe()
        let run = Task {
            try await logbook.run(job: "crawl-9", node: "node-a", heartbeatEvery: .seconds(5), clock: clock) { job in
                do {
                    try await probe.untilCancelled(job)
                } catch {
                    // A zombie that ignores its cancellation and reports once more.
                    do {
                        try await job.progress(index: 99)
                        probe.late("applied")
                    } catch is CancellationError {
                        probe.late("refused")
                    }
                }
            }
        }
        #expect(await eventually { probe.started })
        #expect(await clock.waitForSleepers(1))
        // Another node's reaper interrupts attempt 1 and node-b resumes the job as attempt 2.
        for args in [
            ["--type", "interrupted", "--reason", "leaseExpired", "--attempt", "1"],
            ["--type", "resumed", "--node", "node-b", "--attempt", "2"],
        ] {
            let cli = try TestSupport.run(builtExecutable("logbook"), ["--journal", path, "append", "--job", "crawl-9"] + args)
            #expect(cli.status == 0, "\(cli.stderr)")
        }
        #expect(!probe.sawCancellation)  // nothing told this process yet
        clock.advance(by: .seconds(5))  // the next heartbeat's answer shows attempt 2
        let final = try await value(of: run, within: patientSeconds)
        #expect(probe.sawCancellation)
        #expect(probe.lateProgress == "refused")
        #expect(final.status == .running && final.attempt == 2 && final.node == "node-b")
        #expect(final.index == nil)  // the zombie's progress never applied
        let history = try logbook.history(of: "crawl-9")
        #expect(history.map(\.event.event.type) == [.started, .interrupted, .resumed, .heartbeat, .progress])
        for late in history.suffix(2) {
            #expect(late.anomaly?.message.hasSuffix("from attempt 1 while attempt 2 runs on node-b: ignored") == true)
        }
    }

    @Test func theCallersCancellationInterruptsTheJobSoItCanBeResumed() async throws {
        try await withLogbook { logbook, _ in
            let probe = Probe()
            let run = Task {
                try await logbook.run(job: "j", node: "node-a", heartbeatEvery: .seconds(5), clock: ManualClock()) {
                    try await probe.untilCancelled($0)
                }
            }
            #expect(await eventually { probe.started })
            run.cancel()  // the worker's service shuts down
            let final = try await value(of: run, within: patientSeconds)
            #expect(probe.sawCancellation)
            #expect(final.status == .interrupted && final.attempt == 1)
            #expect(logbook.jobs(JobQuery(resumable: true)).map(\.job) == ["j"])
            // The next run resumes it as attempt 2.
            let again = try await logbook.run(job: "j", node: "node-b", heartbeatEvery: .seconds(5), clock: ManualClock()) { _ in }
            #expect(again.status == .completed && again.attempt == 2 && again.node == "node-b")
            #expect(try types(logbook, "j") == [.started, .interrupted, .resumed, .completed])
        }
    }

    @Test func aTerminalJobIsRefusedAndTheBodyNeverRuns() async throws {
        try await withLogbook { logbook, _ in
            _ = try await logbook.append(Event(job: "done", type: .cancelled))
            let ran = Shared(false)
            await #expect(throws: WorkerError.self) {
                _ = try await logbook.run(job: "done", node: "n", heartbeatEvery: .seconds(5), clock: ManualClock()) { _ in
                    ran.set(true)
                }
            }
            #expect(!ran.value)
            #expect(try types(logbook, "done") == [.cancelled])
        }
    }

    @Test func aRunLeavesNoWatchBehindWhetherItRanOrWasRefused() async throws {
        try await withLogbook { logbook, _ in
            _ = try await logbook.run(job: "ok", node: "n", heartbeatEvery: .seconds(5), clock: ManualClock()) { _ in }
            _ = try await logbook.append(Event(job: "done", type: .cancelled))
            for _ in 0..<3 {
                _ = try? await logbook.run(job: "done", node: "n", heartbeatEvery: .seconds(5), clock: ManualClock()) { _ in }
            }
            #expect(await eventually { logbook.jobWatchers.isEmpty })
        }
    }

    @Test func aJobRunningAnotherAttemptIsRefused() async throws {
        try await withLogbook { logbook, _ in
            _ = try await logbook.append(Event(job: "busy", type: .started, node: "node-b", attempt: 1))
            do {
                _ = try await logbook.run(job: "busy", node: "node-a", heartbeatEvery: .seconds(5), clock: ManualClock()) { _ in
                    Issue.record("the body ran")
                }
                Issue.record("run did not refuse")
            } catch let WorkerError.alreadyRunning(state) {
                #expect(state.node == "node-b" && state.attempt == 1)
            }
            #expect(try types(logbook, "busy") == [.started])
        }
    }

    @Test func twoWorkersRacingToStartOneJobRunOneBody() async throws {
        try await withLogbook { logbook, _ in
            let bodies = Shared(0)
            let gate = Shared(false)
            let results = try await withThrowingTaskGroup(of: String.self) { group in
                for node in ["node-a", "node-b", "node-c", "node-d"] {
                    group.addTask {
                        do {
                            let s = try await logbook.run(job: "race", node: node, heartbeatEvery: .seconds(5), clock: ManualClock()) { _ in
                                bodies.update { $0 += 1 }
                                while !gate.value { try await Task.sleep(for: .milliseconds(5)) }
                            }
                            return s.status.name
                        } catch let error as WorkerError {
                            if case .alreadyRunning = error { return "refused" }
                            return "\(error)"
                        }
                    }
                }
                #expect(await eventually { bodies.value >= 1 })
                gate.set(true)
                var out: [String] = []
                for try await r in group { out.append(r) }
                return out.sorted()
            }
            #expect(results == ["completed", "refused", "refused", "refused"])
            #expect(bodies.value == 1)
            #expect(try types(logbook, "race") == [.started, .completed])
        }
    }
}
