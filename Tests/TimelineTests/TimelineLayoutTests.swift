import JobTimeline
import Lifecycle
import Testing

/// One test per rule of docs/timeline.md (L1…L12).
@Suite struct TimelineLayoutTests {
    /// `2026-06-01T00:00:00Z` plus `seconds`.
    static func t(_ seconds: Int64) -> Timestamp { Timestamp(seconds: 1_780_272_000 + seconds) }

    /// Events of job "j" at the given seconds, folded as the journal would (seqs from 1).
    static func history(_ events: [(Int64, Event)]) -> [TimelineEntry] {
        let recorded = events.enumerated().map { i, pair in
            var e = pair.1
            e.at = t(pair.0)
            return RecordedEvent(seq: UInt64(i + 1), version: UInt64(i + 1), appendedAt: t(pair.0), event: e)
        }
        return Fold.timeline(of: "j", recorded)
    }

    static func ev(_ type: EventType, node: String? = nil, holder: String? = nil, reason: String? = nil, attempt: UInt32? = nil) -> Event {
        Event(job: "j", type: type, node: node, holder: holder, reason: reason, attempt: attempt)
    }

    func layout(_ events: [(Int64, Event)], lease: Int64? = nil, end: Int64? = nil) -> TimelineLayout {
        TimelineLayout(job: "j", history: Self.history(events), options: .init(lease: lease, end: end.map(Self.t)))
    }

    func lane(_ l: TimelineLayout, _ title: String) -> TimelineLayout.Lane? { l.lanes.first { $0.title == title } }

    @Test func L1_theAxisRunsFromTheEarliestEventToTheLatestOrTheGivenEnd() {
        let l = layout([(10, Self.ev(.created)), (5, Self.ev(.started, node: "a", attempt: 1)), (30, Self.ev(.heartbeat, attempt: 1))])
        #expect(l.start == Self.t(5) && l.end == Self.t(30))
        #expect(layout([(10, Self.ev(.created))], end: 100).end == Self.t(100))
    }

    @Test func L2_theStatusLaneHasOneSpanPerStatusTheLastOneOpen() throws {
        let l = layout([
            (0, Self.ev(.created)), (10, Self.ev(.started, node: "a", attempt: 1)), (20, Self.ev(.interrupted, attempt: 1)),
            (30, Self.ev(.resumed, node: "b", attempt: 2)), (40, Self.ev(.completed, attempt: 2)),
        ])
        let status = try #require(lane(l, "status"))
        #expect(status.spans.map(\.kind) == [.status(.pending), .status(.running), .status(.interrupted), .status(.running), .status(.completed)])
        #expect(status.spans.map(\.open) == [false, false, false, false, true])
        #expect(status.spans.last?.label == "completed, not finalized")
    }

    @Test func L3_oneLanePerAttemptLiveFromItsStartUntilItIsLeft() throws {
        let l = layout([
            (0, Self.ev(.started, node: "a", attempt: 1)), (20, Self.ev(.interrupted, reason: "leaseExpired", attempt: 1)),
            (30, Self.ev(.resumed, node: "b", attempt: 2)),
        ], end: 50)
        #expect(l.lanes.map(\.title) == ["status", "a#1", "b#2"])
        let first = try #require(lane(l, "a#1")?.spans.first { $0.kind == .attempt })
        #expect(first.from == Self.t(0) && first.to == Self.t(20) && !first.open)
        let second = try #require(lane(l, "b#2")?.spans.first { $0.kind == .attempt })
        #expect(second.from == Self.t(30) && second.to == Self.t(50) && second.open)
    }

    @Test func L4_eventsGoToTheAttemptTheyNameOrTheCurrentOneOrTheStatusLane() {
        let l = layout([
            (0, Self.ev(.created)), (1, Self.ev(.started, node: "a", attempt: 1)), (2, Self.ev(.heartbeat)),
            (3, Self.ev(.refAcquired, holder: "alice")), (4, Self.ev(.cancelled, reason: "user")),
        ])
        #expect(lane(l, "status")?.marks.map(\.seq) == [1, 5])
        #expect(lane(l, "a#1")?.marks.map(\.seq) == [2, 3])
        #expect(lane(l, "ref alice")?.marks.map(\.seq) == [4])
    }

    @Test func L5_heartbeatsCollapseIntoRuns() throws {
        var events: [(Int64, Event)] = [(0, Self.ev(.started, node: "a", attempt: 1))]
        for i in 1...37 { events.append((Int64(i) * 30, Self.ev(.heartbeat, attempt: 1))) }
        let runs = try #require(lane(layout(events), "a#1")).spans.filter { if case .heartbeats = $0.kind { true } else { false } }
        #expect(runs.count == 1)
        #expect(runs.first?.kind == .heartbeats(count: 37))
        #expect(runs.first?.label == "heartbeat ×37 over 18m")
    }

    @Test func L6_aGapLongerThanExpectedIsASilenceSplittingTheRun() throws {
        var events: [(Int64, Event)] = [(0, Self.ev(.started, node: "a", attempt: 1))]
        for i in 1...5 { events.append((Int64(i) * 30, Self.ev(.heartbeat, attempt: 1))) }
        for i in 0..<3 { events.append((4000 + Int64(i) * 30, Self.ev(.heartbeat, attempt: 1))) }
        // The median gap is 30 s, so the 3,850 s gap is a silence; with a 2-hour lease it is not.
        let spans = try #require(lane(layout(events), "a#1")).spans
        let silences = spans.filter { $0.kind == .silence }
        #expect(silences.map(\.label) == ["silent 1h04m"])
        #expect(spans.filter { if case .heartbeats = $0.kind { true } else { false } }.map(\.kind) == [.heartbeats(count: 5), .heartbeats(count: 3)])
        #expect(try #require(lane(layout(events, lease: 7_200_000_000), "a#1")).spans.allSatisfy { $0.kind != .silence })
        // The trailing gap, to the axis' end, counts too: "so far" while the attempt runs.
        let trailing = try #require(lane(layout(events, lease: 60_000_000, end: 4060 + 3600), "a#1")).spans.last
        #expect(trailing?.kind == .silence && trailing?.open == true && trailing?.label == "silent 1h so far")
    }

    @Test func L7_refsAreHeldFromAcquireToReleaseAndANeverReleasedOneIsOpen() throws {
        let l = layout([
            (0, Self.ev(.refAcquired, holder: "alice")), (1, Self.ev(.refAcquired, holder: "bob")),
            (2, Self.ev(.refAcquired, holder: "alice")), (10, Self.ev(.refReleased, holder: "alice")),
            (11, Self.ev(.refReleased, holder: "carol")),
        ], end: 20)
        let alice = try #require(lane(l, "ref alice")).spans
        #expect(alice.map { [$0.from, $0.to] } == [[Self.t(0), Self.t(10)]] && alice.allSatisfy { !$0.open })
        let bob = try #require(lane(l, "ref bob")).spans
        #expect(bob.count == 1 && bob[0].open && bob[0].to == Self.t(20) && bob[0].label == "held, never released")
        #expect(lane(l, "ref carol")?.spans.isEmpty == true)
        #expect(lane(l, "ref carol")?.marks.first?.kind == .ignored("refReleased by carol, who holds no ref: ignored"))
    }

    @Test func L8_theDecidingEventIsMarkedAndIgnoredEventsCarryTheirReason() {
        let l = layout([
            (0, Self.ev(.started, node: "a", attempt: 1)), (5, Self.ev(.cancelled, reason: "user")),
            (6, Self.ev(.heartbeat, attempt: 1)),
        ])
        let marks = l.lanes.flatMap(\.marks).sorted { $0.seq < $1.seq }
        #expect(marks.map(\.kind) == [.applied, .decided, .ignored("heartbeat after cancelled at seq 2: ignored")])
        #expect(marks[1].label == "cancelled: user")
        #expect(l.ignoredCount == 1 && l.eventCount == 3)
    }

    @Test func L9_aTerminalJobNotFinalizedIsAnOpenOutboxEntry() {
        let open = layout([(0, Self.ev(.started, node: "a", attempt: 1)), (5, Self.ev(.completed, attempt: 1))])
        #expect(open.findings == [.unfinalized(decidedBy: 2)])
        let closed = layout([(0, Self.ev(.started, node: "a", attempt: 1)), (5, Self.ev(.completed, attempt: 1)), (6, Self.ev(.finalized))])
        #expect(closed.findings.isEmpty)
    }

    @Test func L10_anAttemptWritingAfterTheNextOneStartedOverlapsIt() {
        let l = layout([
            (0, Self.ev(.started, node: "a", attempt: 1)), (10, Self.ev(.interrupted, reason: "leaseExpired", attempt: 1)),
            (20, Self.ev(.resumed, node: "b", attempt: 2)), (25, Self.ev(.progress, attempt: 1)), (40, Self.ev(.heartbeat, attempt: 1)),
            (45, Self.ev(.heartbeat, attempt: 2)),
        ])
        #expect(l.findings.contains(.overlap(earlier: 1, later: 2, from: Self.t(20), to: Self.t(40))))
        #expect(lane(l, "a#1")?.marks.filter { if case .ignored = $0.kind { true } else { false } }.count == 2)
    }

    @Test func L11_timeGoingBackwardsInLogOrderIsClockSkew() {
        let l = layout([(100, Self.ev(.started, node: "a", attempt: 1)), (40, Self.ev(.heartbeat, attempt: 1))])
        #expect(l.findings.contains(.clockSkew(seq: 2, at: Self.t(40), previous: Self.t(100))))
        #expect(l.lanes.flatMap(\.marks).first { $0.seq == 2 }?.clockSkew == true)
    }

    @Test func L12_aRunningAttemptWithoutProgressForLongerThanExpectedIsFlagged() {
        var events: [(Int64, Event)] = [(0, Self.ev(.started, node: "a", attempt: 1)), (60, Self.ev(.progress, attempt: 1))]
        for i in 1...20 { events.append((60 + Int64(i) * 60, Self.ev(.heartbeat, attempt: 1))) }
        let l = layout(events)  // heartbeats every minute: expected gap 2 min; no progress for 20 min
        #expect(l.findings == [.noProgress(attempt: 1, since: Self.t(60), for: 1_200_000_000)])
        #expect(layout(events, lease: 3_600_000_000).findings.isEmpty)
    }

    @Test func anEmptyHistoryLaysOutNothing() {
        let l = TimelineLayout(job: "none", history: [])
        #expect(l.lanes.map(\.title) == ["status"])
        #expect(l.eventCount == 0)
    }
}

@Suite struct DurationTextTests {
    @Test(arguments: [
        (0, "0s"), (500_000, "<1s"), (45_000_000, "45s"), (1_080_000_000, "18m"), (4_140_000_000, "1h09m"), (7_200_000_000, "2h"),
        (93_600_000_000, "26h"), (273_600_000_000, "3d4h"), (259_200_000_000, "3d"),
    ] as [(Int64, String)])
    func short(microseconds: Int64, text: String) { #expect(DurationText.short(microseconds) == text) }
}
