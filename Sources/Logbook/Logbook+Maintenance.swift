import ConcurrencyKit
import Journal
import Lifecycle

extension Logbook {
    /// Administration of a journal, kept apart from the embedding API (open, append, state, jobs,
    /// history, follow, changes, run, drainFinalizations, snapshot, close): checks, copies,
    /// compaction, retention, bulk loads and exports of a journal file (static, by path), and for an
    /// open logbook the figures and hooks a service needs (`logbook.maintenance`).
    public struct Maintenance: Sendable {
        let logbook: Logbook
    }

    /// This logbook's maintenance side: storage statistics, stale readers, commit observers for
    /// metrics, the service claim and the shared-log follower's status.
    public var maintenance: Maintenance { Maintenance(logbook: self) }

    public struct SnapshotMismatch: Error, CustomStringConvertible {
        public var detail: String
        public var description: String { detail }
    }
}

extension Logbook.Maintenance {
    /// What `verify` found sound.
    public struct VerifyReport: Sendable {
        public var records: Int
        public var jobs: Int
        /// The seq of the last record checked (0 for an empty journal).
        public var lastSeq: UInt64
        /// The seq the snapshot covers, if there is one (it equalled a full replay).
        public var snapshotSeq: UInt64?
        /// Events carrying an id, each found under it in the ids table (and nothing else there).
        public var eventIDs: Int = 0
    }

    /// Checks every record's CRC, the per-job index against the log, and that the newest snapshot
    /// (advanced by the log tail) equals a full replay. Throws the first problem found.
    ///
    /// With no snapshot nothing stored derives from the fold (projections are rebuilt from the log
    /// at every open), so there is no replay to compare. With one, three things run at once: this
    /// thread checks the log and the index (`Journal.verify`, itself split over threads), one thread
    /// replays the whole log, another decodes the snapshot and folds its tail. Both folds stop at the
    /// last seq there was when verify began, so records appended meanwhile change neither.
    public static func verify(at path: String, progress: (Int) -> Void = { _ in }) throws -> VerifyReport {
        let journal = try Journal.open(at: path, options: .forReading)
        defer { journal.close() }
        guard let snapshot = try journal.latestSnapshot() else {
            let report = try journal.verify(progress: progress)
            return VerifyReport(records: report.records, jobs: report.jobs, lastSeq: report.lastSeq, snapshotSeq: nil, eventIDs: report.eventIDs)
        }
        // Read after the snapshot, so the snapshot covers no more than this.
        let through = try journal.lastSeq()
        let replay = BackgroundWork { () -> Result<Projections, JournalError> in
            var replay = Projections.Replay()
            do throws(JournalError) {
                try journal.scanViewBatches(through: through) { events in
                    replay.fold(batch: events)
                    return true
                }
            } catch {
                return .failure(error)
            }
            return .success(replay.finish())
        }
        let advanced = BackgroundWork { () -> Result<Projections, any Error> in
            var projections: Projections
            do {
                projections = try SnapshotCodec.decode(snapshot.bytes)
            } catch {
                return .failure(Logbook.SnapshotMismatch(detail: "snapshot at seq \(snapshot.seq): \(error)"))
            }
            do throws(JournalError) {
                // Jobs removed in place (an online archive) after the snapshot was written.
                let removed = try journal.jobsRemoved(after: try journal.snapshotRemovalGeneration())
                for job in Set(removed.jobs.map { ExactID($0) }) {
                    projections.refold(job.string, from: try journal.events(ofJob: job.string, throughSeq: projections.coveredSeq))
                }
                try journal.scanViews(from: projections.coveredSeq + 1, through: through) { e in
                    projections.apply(e)
                    return true
                }
            } catch {
                return .failure(error)
            }
            return .success(projections)
        }
        // The log's own problems come first: a damaged record fails the folds too, less precisely.
        let report = try journal.verify(progress: progress)
        var fromSnapshot = try advanced.join().get()
        var full = try replay.join().get()
        // Both folded every event there is up to `through`; the last of them may have been removed
        // in place since (an archive), so neither covers less than that.
        fromSnapshot.cover(through: through)
        full.cover(through: through)
        if fromSnapshot != full {
            let jobs = Set(full.states.map { ExactID($0.job) }).union(fromSnapshot.states.map { ExactID($0.job) }).sorted()
            let differing = jobs.first { full.state(of: $0.string) != fromSnapshot.state(of: $0.string) }
            throw Logbook.SnapshotMismatch(
                detail: "snapshot at seq \(snapshot.seq) disagrees with a full replay"
                    + (differing.map { " for job \($0)" } ?? " in its indexes"))
        }
        return VerifyReport(
            records: report.records, jobs: report.jobs, lastSeq: report.lastSeq, snapshotSeq: snapshot.seq, eventIDs: report.eventIDs)
    }

    /// Compacts the journal at `path` (it must not be open anywhere else) and writes a fresh snapshot.
    ///
    /// With `dropSupersededHeartbeats`, every heartbeat the fold applied that is followed by a later
    /// applied heartbeat in the same attempt of the same job is dropped. Anomalous heartbeats are
    /// always kept and never count as the later one. A heartbeat is also kept when the job's next
    /// event is stamped earlier than it (clocks out of order): time travel by clock stops at the first
    /// event later than T, so dropping it would let later events into some `--at` prefix. No seq or
    /// version changes, so every job state is identical before and after, and `state(of:asOf:)` is
    /// identical for every time except in `lastHeartbeatAt` (a property test checks both).
    public static func compact(
        at path: String, dropSupersededHeartbeats: Bool, dryRun: Bool
    ) throws -> CompactionReport {
        try Journal.compact(at: path, dryRun: dryRun) { journal in
            if dropSupersededHeartbeats, let sharedLog = try journal.sharedLogFollowed() {
                throw JournalError.replica(
                    path: path, sharedLog: sharedLog, refused: "compact --drop-superseded-heartbeats (it removes events)")
            }
            let plan = try supersededHeartbeats(in: journal, planning: dropSupersededHeartbeats)
            return Journal.CompactionPlan(
                drop: plan.drop, snapshot: (plan.projections.coveredSeq, SnapshotCodec.encode(plan.projections)))
        }
    }

    /// The heartbeats `compact --drop-superseded-heartbeats` removes (the rules above), read from
    /// the journal as it is now, with the job of each and the projections after the whole log.
    /// A heartbeat superseded now stays superseded: the log only grows, and a heartbeat's effect
    /// depends only on what came before it.
    static func supersededHeartbeats(in journal: Journal, planning: Bool = true) throws
        -> (drop: [UInt64], jobOfDropped: [UInt32], jobs: InternedIDs, projections: Projections)
    {
        var planner = SupersededHeartbeats()
        var drop: [UInt64] = []
        var jobOfDropped: [UInt32] = []
        try journal.scanViews { e in
            if let (seq, job) = planner.feed(e, planning: planning) {
                drop.append(seq)
                jobOfDropped.append(job)
            }
            return true
        }
        return (drop, jobOfDropped, planner.ids, planner.projections)
    }

}

/// The rules of `compact --drop-superseded-heartbeats`, event by event in log order: fed each
/// event, it names the earlier heartbeat that event makes superseded, if any. Its memory is one
/// entry per job, so a plan can be carried out while it is read (`dropSupersededHeartbeats`).
struct SupersededHeartbeats {
    var projections = Projections()
    /// Jobs are interned: the records are read in place and no string is made per event.
    var ids = InternedIDs()
    /// Per job: its last applied heartbeat, and whether the job's next event is stamped no earlier.
    private var lastApplied: [(attempt: UInt32, seq: UInt64, at: Timestamp, nextInOrder: Bool?)?] = []

    /// Folds `e`; answers the seq (and job key) of the heartbeat it supersedes, when it does.
    mutating func feed(_ e: EventView, planning: Bool = true) -> (seq: UInt64, job: UInt32)? {
        let effect = projections.apply(e)
        guard planning else { return nil }
        let (key, inserted) = ids.intern(e.job)
        if inserted { lastApplied.append(nil) }
        let job = Int(key)
        if var previous = lastApplied[job], previous.nextInOrder == nil {
            previous.nextInOrder = e.at >= previous.at
            lastApplied[job] = previous
        }
        guard e.type == .heartbeat, effect == .applied else { return nil }
        let attempt = e.attempt ?? projections.state(ofJobBytes: e.job)?.attempt ?? 0
        var superseded: (UInt64, UInt32)?
        if let previous = lastApplied[job], previous.attempt == attempt, previous.nextInOrder == true {
            superseded = (previous.seq, key)
        }
        lastApplied[job] = (attempt, e.seq, e.at, nil)
        return superseded
    }
}

extension Logbook.Maintenance {
    /// What an in-place drop of superseded heartbeats did (or, with `dryRun`, would do).
    public struct PruneReport: Sendable {
        public var dropped: Int
        /// Write transactions it took (each whole or absent after a crash).
        public var steps: Int
        public var dryRun: Bool
        /// How many heartbeats each job lost, most first.
        public var droppedByJob: [(job: String, records: Int)]
        /// The journal file's size after (freed pages are reused; the file does not shrink).
        public var fileBytes: Int
    }

    /// Drops every superseded heartbeat (the rules of `compact(at:dropSupersededHeartbeats:)`) in
    /// place, beside the journal's writers: a service, an embedding process, CLI appends. The plan is
    /// read from the journal as it is; the records go in write transactions of at most `step`, each
    /// taking its turn with appends (no append waits for more than one step). Seqs, versions and
    /// states are unchanged; a kill part way leaves each step whole or absent, and running it again
    /// finishes. The file keeps its size (LMDB reuses the freed pages); the offline `compact` shrinks
    /// it. Refused on a shared log's replica.
    public static func dropSupersededHeartbeats(at path: String, step: Int = 1_000, dryRun: Bool = false) async throws -> PruneReport {
        var options = Journal.Options()
        options.create = false
        let journal = try Journal.open(at: path, options: options)
        defer { journal.close() }
        return try await dropSupersededHeartbeats(in: journal, step: step, dryRun: dryRun)
    }

    /// The same for this open logbook, through its own writer (`logbook.maintenance`).
    public func dropSupersededHeartbeats(step: Int = 1_000) async throws -> PruneReport {
        // The plan (megabytes) is freed when the call returns: give it back to the system, or a
        // long-running process keeps each run's peak resident.
        defer { Journal.releaseFreedMemory() }
        return try await Self.dropSupersededHeartbeats(in: logbook.journal, step: step, dryRun: false)
    }

    /// Reads the log in windows of `window` records, carrying out each window's part of the plan
    /// before reading the next: the memory a run needs is one entry per job and one window's seqs,
    /// however many heartbeats it drops. Stops at the log's end as it was when the run began.
    static func dropSupersededHeartbeats(
        in journal: Journal, step: Int, dryRun: Bool, window: Int = 100_000
    ) async throws -> PruneReport {
        if let sharedLog = try journal.sharedLogFollowed() {
            throw JournalError.replica(
                path: journal.path, sharedLog: sharedLog, refused: "compact --drop-superseded-heartbeats (it removes events)")
        }
        let end = try journal.lastSeq()
        var planner = SupersededHeartbeats()
        var counts: [UInt32: Int] = [:]
        var dropped = 0
        var steps = 0
        var next: UInt64 = 1
        while next <= end {
            var drop: [UInt64] = []
            var read = 0
            var last = next - 1
            try journal.scanViews(from: next, through: end) { e in
                if let (seq, job) = planner.feed(e) {
                    drop.append(seq)
                    counts[job, default: 0] += 1
                }
                last = e.seq
                read += 1
                return read < window
            }
            if read == 0 { break }
            next = last + 1
            if dryRun {
                dropped += drop.count
            } else if !drop.isEmpty {
                let removal = try await journal.removeRecords(drop, step: step)
                dropped += removal.removed
                steps += removal.steps
            }
        }
        let byJob = counts.map { (job: planner.ids.ids[Int($0.key)], records: $0.value) }
            .sorted { $0.records != $1.records ? $0.records > $1.records : $0.job < $1.job }
        return PruneReport(dropped: dropped, steps: steps, dryRun: dryRun, droppedByJob: byJob, fileBytes: journal.fileSize)
    }
}
