/// One row of a job's history: the event, what it did, and the state right after it.
public struct TimelineEntry: Sendable, Hashable {
    public var event: RecordedEvent
    public var effect: Fold.Effect
    public var stateAfter: JobState

    public init(event: RecordedEvent, effect: Fold.Effect, stateAfter: JobState) {
        self.event = event
        self.effect = effect
        self.stateAfter = stateAfter
    }

    public var anomaly: Anomaly? {
        if case .ignored(let a) = effect { return a }
        return nil
    }
}

extension Fold {
    /// The history of one job with the state after each event.
    public static func timeline(of job: String, _ events: some Sequence<RecordedEvent>) -> [TimelineEntry] {
        var state = JobState(job: job)
        return events.map { e in
            let effect = apply(e, to: &state)
            return TimelineEntry(event: e, effect: effect, stateAfter: state)
        }
    }

    /// Time travel by seq: the state after every event at or before `seq`. Nil if none.
    public static func state(of job: String, _ events: [RecordedEvent], throughSeq seq: UInt64) -> JobState? {
        let prefix = events.prefix { $0.seq <= seq }
        return prefix.isEmpty ? nil : state(of: job, prefix)
    }

    /// Time travel by clock: the events in log order up to (not including) the first whose `at` is
    /// later than `time`. Log order still decides; a late-stamped event hides what follows it.
    public static func state(of job: String, _ events: [RecordedEvent], asOf time: Timestamp) -> JobState? {
        let prefix = events.prefix { $0.at <= time }
        return prefix.isEmpty ? nil : state(of: job, prefix)
    }
}
