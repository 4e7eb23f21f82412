import Lifecycle

/// One job's life laid out on a time axis: lanes of spans and marks, plus what stands out. Pure
/// (no I/O, no clock): the same history and options always give the same layout. Every renderer
/// (terminal, HTML file, the service's pages) draws this, and only this. The rules are the table
/// in docs/timeline.md (L1…L11); each has a test.
public struct TimelineLayout: Sendable, Hashable {
    public struct Options: Sendable, Hashable {
        /// The expected gap between signs of life, in microseconds (a lease). Nil: twice the
        /// attempt's own median gap.
        public var lease: Int64?
        /// Where the axis ends (now); the last event's time when nil or earlier.
        public var end: Timestamp?

        public init(lease: Int64? = nil, end: Timestamp? = nil) {
            self.lease = lease
            self.end = end
        }
    }

    public enum LaneKind: Sendable, Hashable {
        /// The job's status over time, and the events that belong to no attempt.
        case status
        /// One attempt, and every event that names it (or, naming none, came while it was current).
        case attempt(UInt32)
        /// One ref holder: held from acquire to release.
        case ref(String)
    }

    public enum SpanKind: Sendable, Hashable {
        case status(JobStatus)
        /// The attempt was current and running.
        case attempt
        /// A run of heartbeats, collapsed.
        case heartbeats(count: Int)
        /// No sign of life for longer than expected.
        case silence
        /// A ref was held.
        case held
    }

    public struct Span: Sendable, Hashable {
        public var kind: SpanKind
        public var from: Timestamp
        public var to: Timestamp
        /// It goes on past the axis (a running attempt, a ref never released, the current status).
        public var open: Bool
        public var label: String
    }

    public enum MarkKind: Sendable, Hashable {
        case applied
        /// Kept as evidence, ignored by the fold for this reason.
        case ignored(String)
        /// The event that decided the terminal status.
        case decided
    }

    public struct Mark: Sendable, Hashable {
        public var seq: UInt64
        public var at: Timestamp
        public var type: EventType
        public var kind: MarkKind
        /// Its `at` is earlier than the event before it in log order.
        public var clockSkew: Bool
        /// What the event says, in words ("progress 1200", "cancelled: cancelled by user").
        public var label: String
        /// The event's `data` (a JSON object's text), as stored.
        public var data: String?
    }

    public struct Lane: Sendable, Hashable {
        public var kind: LaneKind
        public var title: String
        public var spans: [Span] = []
        public var marks: [Mark] = []
    }

    /// What an operator should not miss.
    public enum Finding: Sendable, Hashable {
        /// Terminal, but its side effects have not run: an open outbox entry.
        case unfinalized(decidedBy: UInt64?)
        /// Two attempts wrote at the same time: `earlier` kept writing after `later` started.
        case overlap(earlier: UInt32, later: UInt32, from: Timestamp, to: Timestamp)
        /// An event's `at` goes backwards against the event before it in log order.
        case clockSkew(seq: UInt64, at: Timestamp, previous: Timestamp)
        /// The last attempt, still running at the axis' end, has made no progress (nor started) for
        /// longer than expected: it heartbeats, perhaps, but its work is stuck (seed 002, seed 003).
        case noProgress(attempt: UInt32, since: Timestamp, for: Int64)
    }

    public var job: String
    public var start: Timestamp
    public var end: Timestamp
    public var lanes: [Lane]
    public var findings: [Finding]
    /// The state after the last event laid out.
    public var final: JobState
    public var eventCount: Int
    public var ignoredCount: Int

    /// Lays out `history` (one job's events with the fold's effect and the state after each, in
    /// log order, as `Logbook.history(of:)` gives them).
    public init(job: String, history: [TimelineEntry], options: Options = Options()) {
        self.job = job
        eventCount = history.count
        ignoredCount = history.count { $0.anomaly != nil }
        final = history.last?.stateAfter ?? JobState(job: job)
        let times = history.map(\.event.at)
        start = times.min() ?? options.end ?? Timestamp(microseconds: 0)  // L1
        end = max(times.max() ?? start, options.end ?? start)
        findings = []
        lanes = []
        var builder = Builder(history: history, start: start, end: end, lease: options.lease)
        lanes = builder.lanes()
        findings = builder.findings(final: final)
    }
}

/// Builds the lanes, rule by rule.
private struct Builder {
    let history: [TimelineEntry]
    let start: Timestamp
    let end: Timestamp
    let lease: Int64?

    init(history: [TimelineEntry], start: Timestamp, end: Timestamp, lease: Int64?) {
        self.history = history
        self.start = start
        self.end = end
        self.lease = lease
    }

    /// The lane each event is drawn on (L4).
    func lane(of entry: TimelineEntry, stateBefore: JobState) -> TimelineLayout.LaneKind {
        let e = entry.event.event
        if e.type == .refAcquired || e.type == .refReleased { return .ref(e.holder ?? "") }
        if let claimed = e.attempt { return .attempt(claimed) }
        if e.type.opensAttempt, entry.anomaly == nil { return .attempt(entry.stateAfter.attempt) }
        if e.type == .heartbeat || e.type == .progress, stateBefore.attempt > 0 { return .attempt(stateBefore.attempt) }
        return .status
    }

    func mark(_ entry: TimelineEntry, decidedBy: UInt64?, previousAt: Timestamp?) -> TimelineLayout.Mark {
        let r = entry.event
        let kind: TimelineLayout.MarkKind =
            if let a = entry.anomaly { .ignored(a.message) } else if r.seq == decidedBy { .decided } else { .applied }
        return TimelineLayout.Mark(
            seq: r.seq, at: r.at, type: r.event.type, kind: kind, clockSkew: previousAt.map { r.at < $0 } ?? false,
            label: Self.label(r.event), data: r.event.data)
    }

    static func label(_ e: Event) -> String { TimelineLayout.label(e) }

    mutating func lanes() -> [TimelineLayout.Lane] {
        let decidedBy = history.last?.stateAfter.decidedBy
        var status = TimelineLayout.Lane(kind: .status, title: "status")
        var attempts: [UInt32: TimelineLayout.Lane] = [:]
        var attemptNodes: [UInt32: String] = [:]
        var refs: [ExactID: TimelineLayout.Lane] = [:]
        var refOpened: [ExactID: Timestamp] = [:]
        var before = JobState(job: history.first?.stateAfter.job ?? "")
        var previousAt: Timestamp?
        // L2: the status over time.
        var statusSince = start
        var current = JobStatus.pending
        for entry in history {
            let r = entry.event
            let at = max(r.at, statusSince)
            if entry.stateAfter.status != current {
                status.spans.append(.init(kind: .status(current), from: statusSince, to: at, open: false, label: current.name))
                current = entry.stateAfter.status
                statusSince = at
            }
            let m = mark(entry, decidedBy: decidedBy, previousAt: previousAt)
            previousAt = r.at
            switch lane(of: entry, stateBefore: before) {
            case .status:
                status.marks.append(m)
            case .attempt(let n):
                attempts[n, default: TimelineLayout.Lane(kind: .attempt(n), title: "")].marks.append(m)
                if r.event.type.opensAttempt, entry.anomaly == nil { attemptNodes[n] = r.event.node }
                if attemptNodes[n] == nil, let node = r.event.node, r.event.type.opensAttempt { attemptNodes[n] = node }
            case .ref(let holder):
                let key = ExactID(holder)
                refs[key, default: TimelineLayout.Lane(kind: .ref(holder), title: "ref \(holder)")].marks.append(m)
                // L7: held from an applied acquire (that found no ref held) to the applied release.
                let held = before.refs.contains { $0.hasSameBytes(as: holder) }
                if entry.anomaly == nil, r.event.type == .refAcquired, !held { refOpened[key] = r.at }
                if entry.anomaly == nil, r.event.type == .refReleased, let from = refOpened.removeValue(forKey: key) {
                    refs[key]?.spans.append(.init(kind: .held, from: from, to: max(r.at, from), open: false, label: "held"))
                }
            }
            before = entry.stateAfter
        }
        let currentLabel = history.last.map { $0.stateAfter.awaitsFinalization ? "\(current.name), not finalized" : current.name }
        status.spans.append(
            .init(kind: .status(current), from: statusSince, to: end, open: true, label: currentLabel ?? current.name))
        for (key, from) in refOpened {
            refs[key]?.spans.append(.init(kind: .held, from: from, to: end, open: true, label: "held, never released"))
        }
        var out = [status]
        for n in attempts.keys.sorted() {
            var lane = attempts[n]!
            lane.title = "\(attemptNodes[n] ?? "?")#\(n)"
            lane.spans = attemptSpans(n)
            out.append(lane)
        }
        out += refs.values.sorted { ExactID(refTitle($0)) < ExactID(refTitle($1)) }
        return out
    }

    private func refTitle(_ lane: TimelineLayout.Lane) -> String {
        if case .ref(let holder) = lane.kind { return holder }
        return ""
    }

    /// L3, L5, L6: the attempt's live span, its heartbeat runs and its silences.
    func attemptSpans(_ n: UInt32) -> [TimelineLayout.Span] {
        // The live span: from the applied start of attempt n to the first event that leaves it.
        guard let opening = history.firstIndex(where: { $0.anomaly == nil && $0.event.event.type.opensAttempt && $0.stateAfter.attempt == n })
        else { return [] }
        let from = history[opening].event.at
        var to = end
        var open = true
        var signs: [TimelineEntry] = [history[opening]]
        for entry in history[(opening + 1)...] {
            let s = entry.stateAfter
            if s.attempt != n || s.status != .running {
                to = max(entry.event.at, from)
                open = false
                break
            }
            let type = entry.event.event.type
            if entry.anomaly == nil, type == .heartbeat || type == .progress { signs.append(entry) }
        }
        var spans = [TimelineLayout.Span(kind: .attempt, from: from, to: to, open: open, label: open ? "running" : "ran")]
        // L6: a gap longer than the lease (or twice the median gap) is a silence, the trailing one too.
        let times = signs.map(\.event.at)
        let threshold = Self.threshold(lease: lease, signs: times)
        var silences: [TimelineLayout.Span] = []
        if let threshold {
            for (a, b) in zip(times, times.dropFirst()) where b.microseconds - a.microseconds > threshold {
                silences.append(.init(kind: .silence, from: a, to: b, open: false, label: "silent \(DurationText.short(b.microseconds - a.microseconds))"))
            }
            if let last = times.last, to.microseconds - last.microseconds > threshold {
                let d = to.microseconds - last.microseconds
                silences.append(.init(kind: .silence, from: last, to: to, open: open, label: "silent \(DurationText.short(d))\(open ? " so far" : "")"))
            }
        }
        // L5: heartbeats collapse into runs, split where a silence falls.
        var runs: [[Timestamp]] = []
        var run: [Timestamp] = []
        for s in signs where s.event.event.type == .heartbeat {
            if let last = run.last, silences.contains(where: { $0.from >= last && $0.to <= s.event.at && $0.from < $0.to }) {
                runs.append(run)
                run = []
            }
            run.append(s.event.at)
        }
        if !run.isEmpty { runs.append(run) }
        for r in runs {
            let d = r.last!.microseconds - r.first!.microseconds
            let label = r.count == 1 ? "heartbeat" : "heartbeat ×\(r.count) over \(DurationText.short(d))"
            spans.append(.init(kind: .heartbeats(count: r.count), from: r.first!, to: r.last!, open: false, label: label))
        }
        return spans + silences
    }

    /// The expected gap between signs of life: the lease, else twice the median gap (at least 1 s).
    static func threshold(lease: Int64?, signs times: [Timestamp]) -> Int64? {
        let gaps = zip(times, times.dropFirst()).map { max($1.microseconds - $0.microseconds, 0) }
        return lease ?? median(gaps).map { max($0 * 2, 1_000_000) }
    }

    func threshold(ofAttempt n: UInt32) -> Int64? {
        let signs = history.filter { e in
            let type = e.event.event.type
            return e.anomaly == nil && e.stateAfter.attempt == n
                && (type.opensAttempt || type == .heartbeat || type == .progress)
        }
        return Self.threshold(lease: lease, signs: signs.map(\.event.at))
    }

    static func median(_ values: [Int64]) -> Int64? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        return sorted[(sorted.count - 1) / 2]
    }

    /// L9, L10, L11.
    func findings(final: JobState) -> [TimelineLayout.Finding] {
        var out: [TimelineLayout.Finding] = []
        // L10: attempt n wrote (any event naming it) after attempt n+1 opened.
        var opened: [UInt32: Timestamp] = [:]
        for e in history where e.anomaly == nil && e.event.event.type.opensAttempt { opened[e.stateAfter.attempt] = e.event.at }
        for n in opened.keys.sorted() {
            guard let next = opened.keys.filter({ $0 > n }).min(), let nextStart = opened[next] else { continue }
            let late = history.filter { $0.event.event.attempt == n && $0.event.at > nextStart }.map(\.event.at)
            if let last = late.max() { out.append(.overlap(earlier: n, later: next, from: nextStart, to: last)) }
        }
        // L11: `at` going backwards in log order.
        for (a, b) in zip(history, history.dropFirst()) where b.event.at < a.event.at {
            out.append(.clockSkew(seq: b.event.seq, at: b.event.at, previous: a.event.at))
        }
        if final.awaitsFinalization { out.append(.unfinalized(decidedBy: final.decidedBy)) }  // L9
        // L12: the running attempt's last progress (or its start) against the expected gap.
        if final.status == .running, let since = final.lastSignOfProgress {
            let gap = end.microseconds - since.microseconds
            if let threshold = threshold(ofAttempt: final.attempt), gap > threshold {
                out.append(.noProgress(attempt: final.attempt, since: since, for: gap))
            }
        }
        return out
    }
}

/// Durations in the few characters a timeline has room for: `45s`, `18m`, `1h09m`, `26h`, `3d4h`.
public enum DurationText {
    public static func short(_ microseconds: Int64) -> String {
        let s = max(microseconds, 0) / 1_000_000
        if s < 60 { return microseconds < 1_000_000 && microseconds > 0 ? "<1s" : "\(s)s" }
        let m = s / 60
        if m < 60 { return "\(m)m" }
        let h = m / 60
        if h < 10 { return m % 60 == 0 ? "\(h)h" : "\(h)h\(pad(m % 60))m" }
        if h < 72 { return "\(h)h" }
        let d = h / 24
        return h % 24 == 0 ? "\(d)d" : "\(d)d\(h % 24)h"
    }

    private static func pad(_ v: Int64) -> String { v < 10 ? "0\(v)" : "\(v)" }
}

extension TimelineLayout {
    /// What an event says, in words: "progress 1200", "started on node-a", "cancelled: by alice".
    public static func label(_ e: Event) -> String {
        var text = e.type.name
        switch e.type {
        case .started, .resumed: if let node = e.node { text += " on \(node)" }
        case .progress: if let index = e.index { text += " \(index)" }
        case .refAcquired, .refReleased, .finalizing, .finalized: if let holder = e.holder { text += " by \(holder)" }
        default: break
        }
        if let reason = e.reason { text += ": \(reason)" }
        return text
    }
}
