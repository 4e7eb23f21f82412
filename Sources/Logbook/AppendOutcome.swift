import Journal
import Lifecycle
/// What an append answers: the stored events and the state of each job they touched, right after
/// this batch (so a worker's heartbeat learns at once that its job was cancelled).
public struct AppendOutcome: Sendable, Hashable {
    public var events: [RecordedEvent]
    /// Keyed by the job's exact bytes (see `ExactID`); `state(of:)` looks one up by its id.
    public var states: [ExactID: JobState]
    /// The batch was a retry whose event ids were all stored already: nothing was stored now, and
    /// `events` are the events the first append stored (the same seqs and versions); `states` are
    /// the jobs' states now (docs/service.md, "Retries and event ids").
    public var replayed: Bool

    public init(events: [RecordedEvent], states: [ExactID: JobState], replayed: Bool = false) {
        (self.events, self.states, self.replayed) = (events, states, replayed)
    }

    /// The state of the job of the batch's last event (a new, pending state for an empty batch).
    public var state: JobState {
        guard let last = events.last else { return JobState(job: "") }
        return state(of: last.event.job)
    }

    /// The state of `job` right after this batch.
    public func state(of job: String) -> JobState { states[ExactID(job)] ?? JobState(job: job) }

    public var seqs: [UInt64] { events.map(\.seq) }
}
