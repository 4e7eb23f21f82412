import Journal
import Lifecycle

extension Logbook {
    /// The current state of `job`, or nil for a job with no events.
    public func state(of job: String) -> JobState? {
        projections.withLock { $0.state(of: job) }
    }

    /// Jobs matching `query`, sorted by job id.
    public func jobs(_ query: JobQuery = JobQuery()) -> [JobState] {
        projections.withLock { $0.jobs(query) }
    }

    /// A consistent copy of all projections (O(1) until the next append).
    public var currentProjections: Projections { projections.withLock { $0 } }

    /// The job's history, each event with what it did and the state after it.
    public func history(of job: String) throws(JournalError) -> [TimelineEntry] {
        Fold.timeline(of: job, try journal.events(ofJob: job))
    }

    /// Time travel: the job's state after its events up to `seq`. Nil if it had none by then.
    public func state(of job: String, throughSeq seq: UInt64) throws(JournalError) -> JobState? {
        Fold.state(of: job, try journal.events(ofJob: job, throughSeq: seq), throughSeq: seq)
    }

    /// Time travel: the job's state as of `time` (its events in log order up to the first later than it).
    public func state(of job: String, asOf time: Timestamp) throws(JournalError) -> JobState? {
        Fold.state(of: job, try journal.events(ofJob: job), asOf: time)
    }
}
