import Lifecycle
import Testing

/// One test per row of the rule table in docs/event-model.md.
@Suite struct FoldRuleTests {
    @Test func R1_createdSetsCreatedAt() {
        let (s, effect) = fold([ev(.created, t: 10)])
        #expect(effect == .applied)
        #expect(s.createdAt == Timestamp(seconds: 10))
        #expect(s.status == .pending)
        #expect(s.attempt == 0)
    }

    @Test func R2_secondCreatedIsAnAnomaly() {
        let (s, effect) = fold([ev(.created, t: 10), ev(.created, t: 20)])
        #expect(effect.message == "created again: ignored")
        #expect(s.createdAt == Timestamp(seconds: 10))
    }

    @Test func R3_startedOpensAnAttemptAndResetsItsTimes() {
        let (s, _) = fold([
            ev(.created), ev(.started, t: 1, node: "a"), ev(.heartbeat, t: 2), ev(.progress, t: 3, index: 7),
            ev(.interrupted, t: 4), ev(.resumed, t: 5, node: "b"),
        ])
        #expect(s.status == .running)
        #expect(s.attempt == 2)
        #expect(s.node == "b")
        #expect(s.attemptStartedAt == Timestamp(seconds: 5))
        #expect(s.lastHeartbeatAt == nil)
        #expect(s.lastProgressAt == nil)
        #expect(s.index == 7)  // the position survives: a resume continues from it
    }

    @Test func R4_startNamingTheWrongAttemptIsAnAnomaly() {
        let (s, effect) = fold([ev(.started, node: "a", attempt: 1), ev(.started, node: "b", attempt: 1)])
        #expect(effect.message == "started names attempt 1 but the next attempt is 2: ignored")
        #expect(s.attempt == 1)
        #expect(s.node == "a")
    }

    @Test func R5_heartbeatWhileRunning() {
        let (s, effect) = fold([ev(.started, t: 1), ev(.heartbeat, t: 9)])
        #expect(effect == .applied)
        #expect(s.lastHeartbeatAt == Timestamp(seconds: 9))
    }

    @Test func R6_progressWhileRunning() {
        let (s, effect) = fold([ev(.started, t: 1), ev(.progress, t: 9, index: 42)])
        #expect(effect == .applied)
        #expect(s.lastProgressAt == Timestamp(seconds: 9))
        #expect(s.index == 42)
    }

    @Test(arguments: [EventType.heartbeat, .progress])
    func R7_heartbeatOrProgressWhenNotRunningIsAnAnomaly(type: EventType) {
        let pending = fold([ev(.created), ev(type, t: 5)])
        #expect(pending.last.message == "\(type.name) while pending: ignored")
        let interrupted = fold([ev(.started), ev(.interrupted), ev(type, t: 5)])
        #expect(interrupted.last.message == "\(type.name) while interrupted: ignored")
        #expect(interrupted.state.lastHeartbeatAt == nil && interrupted.state.lastProgressAt == nil)
    }

    @Test func R8_zombieOfAnEarlierAttemptIsFenced() {
        let (s, effect) = fold([
            ev(.started, t: 1, node: "node-a"), ev(.interrupted, t: 2, reason: "leaseExpired"),
            ev(.resumed, t: 3, node: "node-b"), ev(.heartbeat, t: 50, attempt: 1),
        ])
        #expect(effect.message == "heartbeat from attempt 1 while attempt 2 runs on node-b: ignored")
        #expect(s.lastHeartbeatAt == nil)
        #expect(s.lastSignOfLife == Timestamp(seconds: 3))
    }

    @Test func R9_eventNamingAFutureAttemptIsAnAnomaly() {
        let (s, effect) = fold([ev(.started, t: 1), ev(.progress, t: 2, index: 3, attempt: 3)])
        #expect(effect.message == "progress names attempt 3 but the latest attempt is 1: ignored")
        #expect(s.index == nil)
    }

    @Test func R10_interruptedMakesTheJobResumable() {
        let running = fold([ev(.started), ev(.interrupted)])
        #expect(running.last == .applied)
        #expect(running.state.status == .interrupted)
        let pending = fold([ev(.created), ev(.interrupted)])
        #expect(pending.state.status == .interrupted)
    }

    @Test(arguments: [(EventType.cancelled, JobStatus.cancelled), (.completed, .completed), (.failed, .failed)])
    func R11_terminalEventDecides(type: EventType, status: JobStatus) {
        let (s, effect) = fold([ev(.started), ev(type, reason: "why")])
        #expect(effect == .applied)
        #expect(s.status == status)
        #expect(s.terminal)
        #expect(s.decidedBy == 2)
        #expect(s.decidedReason == "why")
        #expect(!s.finalized)
    }

    @Test func R12_refAcquiredAddsTheHolderSorted() {
        let (s, _) = fold([ev(.refAcquired, holder: "bob"), ev(.refAcquired, holder: "alice")])
        #expect(s.refs == ["alice", "bob"])
    }

    @Test func R13_refAcquiredTwiceBySameHolderIsANoOp() {
        let (s, effect) = fold([ev(.refAcquired, holder: "bob"), ev(.refAcquired, holder: "bob")])
        #expect(effect == .applied)
        #expect(s.refs == ["bob"])
        #expect(s.anomalyCount == 0)
    }

    @Test func R14_releaseWhileOthersHoldRefs() {
        let (s, _) = fold([
            ev(.refAcquired, holder: "a"), ev(.refAcquired, holder: "b"), ev(.started), ev(.refReleased, holder: "a"),
        ])
        #expect(s.refs == ["b"])
        #expect(s.status == .running)
    }

    @Test func R15_lastReleaseCancels() {
        let (s, effect) = fold([
            ev(.refAcquired, holder: "a"), ev(.refAcquired, holder: "b"), ev(.refReleased, holder: "a"),
            ev(.refReleased, holder: "b"),
        ])
        #expect(effect == .applied)
        #expect(s.refs.isEmpty)
        #expect(s.status == .cancelled)
        #expect(s.decidedBy == 4)
        #expect(s.decidedReason == "lastRefReleased")
    }

    @Test func R16_releaseByAHolderWithoutARefIsAnAnomaly() {
        let (s, effect) = fold([ev(.refAcquired, holder: "a"), ev(.refReleased, holder: "mallory")])
        #expect(effect.message == "refReleased by mallory, who holds no ref: ignored")
        #expect(s.refs == ["a"])
        #expect(!s.terminal)
    }

    @Test func R17_finalizedBeforeTerminalIsAnAnomaly() {
        let (s, effect) = fold([ev(.started), ev(.finalized)])
        #expect(effect.message == "finalized before any terminal event: ignored")
        #expect(!s.finalized)
    }

    @Test func R18_firstFinalizedAfterTerminalApplies() {
        let (s, effect) = fold([ev(.started), ev(.completed), ev(.finalized)])
        #expect(effect == .applied)
        #expect(s.finalized)
        #expect(!s.awaitsFinalization)
    }

    @Test func R19_secondFinalizedIsAnAnomaly() {
        let (s, effect) = fold([ev(.started), ev(.completed), ev(.finalized), ev(.finalized)])
        #expect(effect.message == "finalized again: ignored")
        #expect(s.finalized)
    }

    @Test(arguments: EventType.allCases.filter { $0 != .finalized && $0 != .finalizing })
    func R20_terminalWinsOverEveryLaterEvent(type: EventType) {
        let later = ev(type, node: "n", holder: "h", attempt: type.opensAttempt ? 2 : 1)
        let (s, effect) = fold([ev(.started, attempt: 1), ev(.cancelled), ev(.interrupted), later])
        #expect(effect.message == "\(type.name) after cancelled at seq 2: ignored")
        #expect(s.status == .cancelled)
        #expect(s.decidedBy == 2)
        #expect(s.anomalies.first?.message == "interrupted after cancelled at seq 2: ignored")
        #expect(s.anomalyCount == 2)
    }

    @Test func R24_finalizingOnATerminalUnfinalizedJobRecordsTheLatestClaim() {
        let (first, effect) = fold([ev(.started), ev(.failed), ev(.finalizing, t: 5, holder: "drainer-a")])
        #expect(effect == .applied)
        #expect(first.finalizing == FinalizationClaim(holder: "drainer-a", seq: 3, at: Timestamp(seconds: 5)))
        #expect(first.awaitsFinalization)  // a claim is not a finalization: the job stays in the outbox
        // A later claim (a drainer taking over one whose lease ran out) replaces it; the fold has no
        // clock, so liveness is the drainer's to judge and the expected version fences the race.
        let (taken, _) = fold([
            ev(.started), ev(.failed), ev(.finalizing, t: 5, holder: "drainer-a"), ev(.finalizing, t: 90, holder: "drainer-b"),
        ])
        #expect(taken.finalizing == FinalizationClaim(holder: "drainer-b", seq: 4, at: Timestamp(seconds: 90)))
        let (done, _) = fold([ev(.started), ev(.failed), ev(.finalizing, holder: "drainer-a"), ev(.finalized)])
        #expect(done.finalized && done.finalizing?.holder == "drainer-a")
    }

    @Test func R25_finalizingAfterFinalizedIsAnAnomaly() {
        let (s, effect) = fold([ev(.started), ev(.completed), ev(.finalized), ev(.finalizing, holder: "late")])
        #expect(effect.message == "finalizing after finalized: ignored")
        #expect(s.finalizing == nil)
    }

    @Test func R26_finalizingBeforeTerminalIsAnAnomaly() {
        let (s, effect) = fold([ev(.started), ev(.finalizing, holder: "eager")])
        #expect(effect.message == "finalizing before any terminal event: ignored")
        #expect(s.finalizing == nil)
        #expect(s.status == .running)
    }

    @Test func R21_versionCountsAnomaliesToo() {
        let (s, _) = fold([ev(.started), ev(.completed), ev(.heartbeat), ev(.heartbeat)])
        #expect(s.version == 4)
    }

    @Test func R22_eventsBeforeCreatedAreAllowed() {
        let (s, _) = fold([ev(.started, t: 1, node: "a"), ev(.created, t: 0)])
        #expect(s.status == .running)
        #expect(s.attempt == 1)
        #expect(s.createdAt == Timestamp(seconds: 0))
        let never = fold([ev(.heartbeat, t: 1)])
        #expect(never.state.createdAt == nil)
        #expect(never.state.status == .pending)
        #expect(never.last.message == "heartbeat while pending: ignored")
    }

    @Test func R23_noAttemptFollowsTheLastOneThereCanBe() {
        // Only a forged snapshot can carry such a state; the fold must answer, not trap.
        for claimed in [nil, UInt32.max] as [UInt32?] {
            var state = JobState(job: "j")
            state.status = .interrupted
            state.attempt = .max
            state.version = 9
            let e = RecordedEvent(seq: 10, version: 10, appendedAt: Timestamp(seconds: 0), event: ev(.resumed, attempt: claimed))
            let effect = Fold.apply(e, to: &state)
            #expect(effect.message == "resumed after attempt 4294967295, the last one there can be: ignored")
            #expect(state.attempt == .max && state.status == .interrupted)
        }
    }

    @Test func anomaliesBeyondTheLimitAreCountedNotKept() {
        let events = [ev(.started), ev(.cancelled)] + Array(repeating: ev(.heartbeat), count: 150)
        let (s, _) = fold(events)
        #expect(s.anomalies.count == JobState.anomalyLimit)
        #expect(s.anomalyCount == 150)
    }

    @Test func logOrderDecidesNotTheClock() {
        // The completion is stamped earlier than the cancel but was appended first: completed wins.
        let (s, effect) = fold([ev(.started, t: 1), ev(.completed, t: 100), ev(.cancelled, t: 50)])
        #expect(s.status == .completed)
        #expect(effect.message == "cancelled after completed at seq 2: ignored")
    }
}
