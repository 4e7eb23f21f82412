/// What an append answers: the stored events and the state of each job they touched, right after
/// this batch (so a worker's heartbeat learns at once that its job was cancelled).
public struct AppendOutcome: Sendable, Hashable {
    public var events: [RecordedEvent]
    public var states: [String: JobState]

    /// The state of the job of the batch's last event.
    public var state: JobState {
        let job = events[events.count - 1].event.job
        return states[job] ?? JobState(job: job)
    }

    public var seqs: [UInt64] { events.map(\.seq) }
}
