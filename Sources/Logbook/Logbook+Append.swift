import Journal
import Lifecycle

extension Logbook {
    /// Appends a batch atomically (all or none); answers once it is durable, with each touched
    /// job's state right after the batch. An expected version that does not hold rejects the whole
    /// batch with `JournalError.versionConflict`, and nothing is stored. An empty batch is refused
    /// (`JournalError.emptyBatch`). Events may carry ids (`Event.id`): a batch whose ids are all
    /// stored already stores nothing and answers with what was stored (`AppendOutcome.replayed`), so
    /// a retry is safe; one mixing stored and new ids, or reusing an id for another event, is refused
    /// with `JournalError.idConflict`.
    public func append(_ items: [AppendItem]) async throws(JournalError) -> AppendOutcome {
        if items.isEmpty { throw .emptyBatch }
        if let shared { return try await appendThroughSharedLog(items, shared) }
        let jobs = Set(items.map { ExactID($0.event.job) })
        let result: Result<AppendOutcome, JournalError> = await withCheckedContinuation { continuation in
            journal.submitAppend(items) { result in
                // On the writer thread: this batch has just been folded in, no later one yet.
                continuation.resume(
                    returning: result.map { batch in
                        let states = self.projections.withLock { p in
                            Dictionary(uniqueKeysWithValues: jobs.compactMap { job in p.state(of: job.string).map { (job, $0) } })
                        }
                        return AppendOutcome(events: batch.events, states: states, replayed: batch.replayed)
                    })
            }
        }
        return try result.get()
    }

    /// Appends one event, optionally guarded by the job's expected version.
    public func append(_ event: Event, expectedVersion: UInt64? = nil) async throws(JournalError) -> AppendOutcome {
        try await append([AppendItem(event, expectedVersion: expectedVersion)])
    }

    /// Appends events without an expectation.
    public func append(_ events: [Event]) async throws(JournalError) -> AppendOutcome {
        try await append(events.map { AppendItem($0) })
    }
}

extension Logbook.Maintenance {
    /// What `ingest` stored: how many events and the seqs they got.
    public struct IngestReport: Sendable {
        public var appended: Int
        public var firstSeq: UInt64?
        public var lastSeq: UInt64?
        /// The events were all stored already (their ids were): nothing was appended now, and the
        /// seqs are those they have.
        public var alreadyStored: Bool
        public init(appended: Int, firstSeq: UInt64?, lastSeq: UInt64?, alreadyStored: Bool = false) {
            (self.appended, self.firstSeq, self.lastSeq, self.alreadyStored) = (appended, firstSeq, lastSeq, alreadyStored)
        }
    }

    /// Appends `events` to the journal at `path` (created when missing) in one transaction, all or
    /// none, without folding the journal's projections first: a bulk load, for `logbook ingest`.
    /// `progress` hears how many events are written so far (on the writer thread).
    public static func ingest(
        _ events: [Event], into path: String, progress: (@Sendable (Int) -> Void)? = nil
    ) async throws(JournalError) -> IngestReport {
        let journal = try Journal.open(at: path)
        defer { journal.close() }
        guard !events.isEmpty else { return IngestReport(appended: 0, firstSeq: nil, lastSeq: nil) }
        let batch = try await journal.appendReportingReplays(events.map { AppendItem($0) }, progress: progress)
        let stored = batch.events
        return IngestReport(
            appended: batch.replayed ? 0 : stored.count, firstSeq: stored.first?.seq, lastSeq: stored.last?.seq,
            alreadyStored: batch.replayed)
    }
}

extension Logbook {
    /// Why an operation on a job was refused before anything was stored or written.
    public enum Refusal: Error, Sendable, Equatable, CustomStringConvertible {
        case noSuchJob(String)
        /// The fold would ignore the event: storing it would change nothing.
        case wouldBeIgnored(Anomaly)

        public var description: String {
            switch self {
            case .noSuchJob(let job): "no such job: \(job)"
            case .wouldBeIgnored(let anomaly): anomaly.message
            }
        }
    }

    /// An operator's action on one job, safely: reads the job's state, makes the event from it,
    /// refuses one the fold would ignore (`Refusal.wouldBeIgnored`), and appends it with the
    /// version read as the expected version, so a change that raced in between is refused
    /// (`JournalError.versionConflict`, nothing stored), never overwritten.
    public func act(on job: String, _ makeEvent: (JobState) throws -> Event) async throws -> AppendOutcome {
        guard let state = state(of: job) else { throw Refusal.noSuchJob(job) }
        let event = try makeEvent(state)
        var preview = state
        let probe = RecordedEvent(seq: .max, version: state.version + 1, appendedAt: options.clock(), event: event)
        if case .ignored(let anomaly) = Fold.apply(probe, to: &preview) { throw Refusal.wouldBeIgnored(anomaly) }
        return try await append(event, expectedVersion: state.version)
    }
}
