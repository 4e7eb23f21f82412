import Journal
import Lifecycle

/// Retention: finished jobs move out of the journal into an incident bundle, in place, beside the
/// writers (docs/operations.md, "Retention without downtime").
extension Logbook.Maintenance {
    /// What `archive` moved (or would move).
    public struct ArchiveReport: Sendable {
        /// The jobs moved, in byte order of their ids.
        public var jobs: [String]
        /// Their events, all moved to the bundle.
        public var events: Int
        /// The bundle's size (0 on a dry run or when nothing moved).
        public var bundleBytes: Int
        /// The journal file's size before and after (the same, or larger: freed pages are reused by
        /// later appends; the offline `compact` shrinks the file).
        public var bytesBefore: Int
        public var bytesAfter: Int
        public var dryRun: Bool
        /// Write transactions the removal took (each whole or absent after a crash).
        public var steps = 0
        /// Jobs that gained an event while the archive ran: kept whole in the journal, left out of the bundle.
        public var kept: [String] = []
        /// An archive killed earlier that this run finished (or on a dry run, would finish) first:
        /// its bundle and the jobs it removed now.
        public var finished: (bundle: String, jobs: Int)?
    }

    /// Moves every job that is terminal, finalized and has no event stamped at or after `cutoff` out
    /// of the journal at `path` into `bundle`, a new file in the export format (JSON Lines that
    /// `ingest` accepts, in seq order), while a service, an embedding process or CLI appends go on.
    ///
    /// The plan is read from the journal as it is; the bundle is written and fsynced, with the plan
    /// recorded in the journal, before any job is removed; then the jobs go whole, in write
    /// transactions of about `step` records that take turns with appends. A job that gains an event
    /// meanwhile is kept (and left out of the bundle). A kill leaves every job in the journal or in
    /// the bundle, each step whole or absent; the next `archive` finishes the killed one first (into
    /// its bundle, never a second). Nothing is renumbered: the remaining jobs keep every seq, version
    /// and state. A removed job's id is free again: its next event starts a new job at version 1.
    /// When no job qualifies nothing is written. Refused on a shared log's replica.
    public static func archive(
        at path: String, finalizedBefore cutoff: Timestamp, to bundle: String, dryRun: Bool, step: Int = 1_000
    ) async throws -> ArchiveReport {
        var options = dryRun ? Journal.Options.forReading : Journal.Options()
        options.create = false
        let journal = try Journal.open(at: path, options: options)
        defer { journal.close() }
        return try await archive(in: journal, cutoff: cutoff, bundle: bundle, dryRun: dryRun, step: step) {}
    }

    /// The same for this open logbook, through its own writer (`logbook.maintenance`): its
    /// projections forget each step's jobs as soon as the step is stored.
    public func archive(finalizedBefore cutoff: Timestamp, to bundle: String, step: Int = 1_000) async throws -> ArchiveReport {
        let logbook = self.logbook
        defer { Journal.releaseFreedMemory() }  // the plan, freed on return (see dropSupersededHeartbeats)
        return try await Self.archive(in: logbook.journal, cutoff: cutoff, bundle: bundle, dryRun: false, step: step) {
            do {
                try logbook.projections.withLock { p throws(JournalError) in try logbook.absorbRemovals(&p) }
            } catch {
                logbook.options.warn("could not fold jobs removed by the archive: \(error); they are folded at the next refresh")
            }
        }
    }

    static func archive(
        in journal: Journal, cutoff: Timestamp, bundle: String, dryRun: Bool, step: Int, afterStep: @escaping @Sendable () -> Void
    ) async throws -> ArchiveReport {
        if let sharedLog = try journal.sharedLogFollowed() {
            throw JournalError.replica(path: journal.path, sharedLog: sharedLog, refused: "archive (it removes events)")
        }
        let before = journal.fileSize
        var report = ArchiveReport(jobs: [], events: 0, bundleBytes: 0, bytesBefore: before, bytesAfter: before, dryRun: dryRun)
        if dryRun {
            if let pending = try journal.pendingArchive() { report.finished = (pending.bundle, pending.jobs.count) }
            let plan = try archivePlan(in: journal, cutoff: cutoff)
            report.jobs = plan.map(\.job)
            report.events = plan.reduce(0) { $0 + $1.records }
            return report
        }
        let claim = try journal.claimArchive()
        defer { claim.release() }
        if let pending = try journal.pendingArchive(),
            let done = try await finish(pending, in: journal, step: step, afterStep: afterStep)
        {
            report.finished = (pending.bundle, done.removed.count)
            if pending.bundle == bundle {
                report.bytesAfter = journal.fileSize
                return report
            }
        }
        try Journal.prepareCopy(to: bundle)
        let plan = try archivePlan(in: journal, cutoff: cutoff)
        guard !plan.isEmpty else { return report }
        let pending = Journal.PendingArchive(bundle: bundle, jobs: plan)
        try await journal.setPendingArchive(pending)
        do {
            report.bundleBytes = try writeBundle(of: plan, from: journal, to: bundle)
        } catch {
            try? await journal.setPendingArchive(nil)
            throw error
        }
        let done = try await finish(pending, in: journal, step: step, afterStep: afterStep) ?? Journal.JobRemovalReport()
        let byBytes = { (a: String, b: String) in a.utf8.lexicographicallyPrecedes(b.utf8) }
        report.jobs = done.removed.sorted(by: byBytes)
        report.kept = done.changed.sorted(by: byBytes)
        report.events = done.records
        report.steps = done.steps
        if !done.changed.isEmpty { report.bundleBytes = Journal.fileSizeOf(bundle) }
        report.bytesAfter = journal.fileSize
        return report
    }

    /// Removes the jobs `pending` names whose bundle was written, takes those that gained an event
    /// out of the bundle, and clears the record. A bundle that is not there was never published
    /// (the run was killed while writing it), so nothing was removed: the record is just cleared,
    /// and nil says there was nothing to finish.
    private static func finish(
        _ pending: Journal.PendingArchive, in journal: Journal, step: Int, afterStep: @escaping @Sendable () -> Void
    ) async throws -> Journal.JobRemovalReport? {
        guard Journal.fileExists(pending.bundle) else {
            Journal.discardCopy(Journal.stagingPath(for: pending.bundle))
            try await journal.setPendingArchive(nil)
            return nil
        }
        let removal = try await journal.removeJobs(pending.jobs, step: step) { _ in afterStep() }
        if !removal.changed.isEmpty {
            let changed = Set(removal.changed.map { ExactID($0) })
            _ = try Journal.rewriteLines(of: pending.bundle) { line in
                guard let event = try? Event(jsonLine: Array(line)) else { return true }
                return !changed.contains(ExactID(event.job))
            }
        }
        try await journal.setPendingArchive(nil)
        return removal
    }

    /// The jobs that are terminal, finalized and have no event stamped at or after `cutoff`, with
    /// their last index entries, in byte order of their ids (one read of the log, in place).
    static func archivePlan(in journal: Journal, cutoff: Timestamp) throws -> [Journal.PlannedJob] {
        var projections = Projections()
        var ids = InternedIDs()
        var latest: [Timestamp] = []
        var last: [(version: UInt64, seq: UInt64, records: Int)] = []
        try journal.scanViews { e in
            projections.apply(e)
            let (key, inserted) = ids.intern(e.job)
            if inserted {
                latest.append(e.at)
                last.append((0, 0, 0))
            }
            let k = Int(key)
            latest[k] = max(latest[k], e.at)
            last[k] = (e.version, e.seq, last[k].records + 1)
            return true
        }
        var plan: [Journal.PlannedJob] = []
        for (k, job) in ids.ids.enumerated() {
            guard let state = projections.state(of: job), state.terminal, state.finalized, latest[k] < cutoff else { continue }
            plan.append(Journal.PlannedJob(job: job, lastVersion: last[k].version, lastSeq: last[k].seq, records: last[k].records))
        }
        plan.sort { $0.job.utf8.lexicographicallyPrecedes($1.job.utf8) }
        return plan
    }

    /// Writes the planned jobs' events (up to each one's planned last) to the new file `bundle`, in
    /// seq order, fsynced and published under its name; returns its size.
    static func writeBundle(of plan: [Journal.PlannedJob], from journal: Journal, to bundle: String) throws -> Int {
        var ids = InternedIDs()
        var lastSeq: [UInt64] = []
        for p in plan {
            var job = p.job
            _ = job.withUTF8 { ids.intern(UnsafeRawBufferPointer($0)) }
            lastSeq.append(p.lastSeq)
        }
        return try Journal.writeNewFile(at: bundle) { write in
            var out = JSONBytes(capacity: 1 << 17)
            try journal.scanViews { e in
                guard let key = ids.key(of: e.job), e.seq <= lastSeq[Int(key)] else { return true }
                e.appendJSONLine(to: &out)
                out.append(raw: "\n")
                if out.count >= 1 << 16 {
                    try out.withUnsafeBytes { try write($0) }
                    out.removeAll()
                }
                return true
            }
            if out.count > 0 { try out.withUnsafeBytes { try write($0) } }
        }
    }
}
