import Lifecycle

/// An event for job "j" at `t` seconds after the epoch.
func ev(
    _ type: EventType, t: Int64 = 0, node: String? = nil, holder: String? = nil, reason: String? = nil,
    index: UInt64? = nil, attempt: UInt32? = nil, job: String = "j"
) -> Event {
    Event(
        job: job, type: type, at: Timestamp(seconds: t), node: node, holder: holder, reason: reason, index: index,
        attempt: attempt)
}

/// Gives events seqs 1, 2, … and per-job versions, as the journal would.
func record(_ events: [Event]) -> [RecordedEvent] {
    var versions: [String: UInt64] = [:]
    return events.enumerated().map { i, e in
        let v = (versions[e.job] ?? 0) + 1
        versions[e.job] = v
        return RecordedEvent(seq: UInt64(i + 1), version: v, appendedAt: e.at ?? Timestamp(seconds: 0), event: e)
    }
}

/// Folds `events` for job "j"; returns the state and the effect of the last event.
func fold(_ events: [Event]) -> (state: JobState, last: Fold.Effect) {
    var state = JobState(job: "j")
    var last = Fold.Effect.applied
    for e in record(events) { last = Fold.apply(e, to: &state) }
    return (state, last)
}

extension Fold.Effect {
    var message: String? {
        if case .ignored(let a) = self { return a.message }
        return nil
    }
}
