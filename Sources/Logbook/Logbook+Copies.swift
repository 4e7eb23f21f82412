import Journal
import Lifecycle

/// Keeping a journal healthy for years: a verified hot backup, a salvage of what survived damage,
/// and retention that moves finished jobs into an incident bundle (docs/operations.md).
extension Logbook.Maintenance {
    /// What `backup` wrote.
    public struct BackupReport: Sendable {
        public var path: String
        public var bytes: Int
        /// The copy's own `verify`: its records, jobs and the last seq it covers.
        public var verified: VerifyReport
    }

    /// Writes a consistent, compacted copy of the journal at `path` to `destination` (which must not
    /// exist), while other processes may go on appending: LMDB copies under one read transaction,
    /// so the copy is the journal as of one commit. The copy is verified (CRCs, index, snapshot
    /// against a full replay) before it is published under its name; a kill at any moment leaves no
    /// destination or the complete, verified one, and never changes the journal.
    public static func backup(at path: String, to destination: String) throws -> BackupReport {
        try Journal.prepareCopy(to: destination)
        let stage = Journal.stagingPath(for: destination)
        do {
            let journal = try Journal.open(at: path, options: .forReading)
            defer { journal.close() }
            try journal.copyCompacted(to: stage)
        }
        do {
            let verified = try verify(at: stage)
            try Journal.publishCopy(stage, as: destination)
            return BackupReport(path: destination, bytes: Journal.fileSizeOf(destination), verified: verified)
        } catch {
            Journal.discardCopy(stage)
            throw error
        }
    }

    /// What `salvage` kept, lost and wrote.
    public struct SalvageReport: Sendable {
        public var path: String
        public var bytes: Int
        public var copy: SalvagedRecords
        /// The new journal's own `verify`.
        public var verified: VerifyReport
    }

    /// Copies every record of the journal at `path` whose checksum and format hold into a new journal
    /// at `destination` (which must not exist), keeping each seq, version and byte; lists every lost
    /// seq with its job. The new journal gets a fresh snapshot and is verified before it is published.
    /// The damaged journal is only read.
    public static func salvage(at path: String, to destination: String) async throws -> SalvageReport {
        try Journal.prepareCopy(to: destination)
        let stage = Journal.stagingPath(for: destination)
        do {
            let copy: SalvagedRecords
            do {
                let source = try Journal.open(at: path, options: .forReading)
                defer { source.close() }
                copy = try source.salvage(into: stage)
            }
            var options = Logbook.Options()
            options.create = false
            options.snapshotEvery = nil
            options.foreignAppendPollInterval = nil
            let salvaged = try Logbook.open(at: stage, options: options)
            do {
                defer { salvaged.close() }
                try await salvaged.snapshot()
            }
            let verified = try verify(at: stage)
            try Journal.publishCopy(stage, as: destination)
            return SalvageReport(path: destination, bytes: Journal.fileSizeOf(destination), copy: copy, verified: verified)
        } catch {
            Journal.discardCopy(stage)
            throw error
        }
    }

    /// What `archive` moved (or would move).
    public struct ArchiveReport: Sendable {
        /// The jobs moved, in byte order of their ids.
        public var jobs: [String]
        /// Their events, all moved to the bundle.
        public var events: Int
        /// The bundle's size (0 on a dry run or when nothing moved).
        public var bundleBytes: Int
        public var bytesBefore: Int
        public var bytesAfter: Int
        public var dryRun: Bool
    }

    /// Moves every job that is terminal, finalized and has no event stamped at or after `cutoff` out
    /// of the journal at `path` into `bundle`, a new file in the export format (JSON Lines that
    /// `ingest` accepts, in seq order). Needs the journal alone, like `compact`.
    ///
    /// Crash safety: the bundle is written, fsynced and published first; only then is the journal
    /// rewritten without those jobs (compaction's build-beside-and-rename). A kill leaves the journal
    /// as it was, or the journal without the jobs and the complete bundle. Nothing is renumbered:
    /// the remaining jobs keep every seq, version and state, byte for byte. When no job qualifies,
    /// nothing is written at all.
    public static func archive(
        at path: String, finalizedBefore cutoff: Timestamp, to bundle: String, dryRun: Bool
    ) throws -> ArchiveReport {
        if !dryRun { try Journal.prepareCopy(to: bundle) }
        var moved: [String] = []
        var events = 0
        var bundleBytes = 0
        let compaction = try Journal.compact(at: path, dryRun: dryRun) { journal in
            if let sharedLog = try journal.sharedLogFollowed() {
                throw JournalError.replica(path: path, sharedLog: sharedLog, refused: "archive (it removes events)")
            }
            // Pass 1: every job's state and the latest time stamped on any of its events.
            var projections = Projections()
            var ids = InternedIDs()
            var latest: [Timestamp] = []
            var counts: [Int] = []
            try journal.scanViews { e in
                projections.apply(e)
                let (key, inserted) = ids.intern(e.job)
                if inserted {
                    latest.append(e.at)
                    counts.append(0)
                }
                latest[Int(key)] = max(latest[Int(key)], e.at)
                counts[Int(key)] += 1
                return true
            }
            var leaving = [Bool](repeating: false, count: ids.count)
            for (key, job) in ids.ids.enumerated() {
                guard let state = projections.state(of: job), state.terminal, state.finalized, latest[key] < cutoff else {
                    continue
                }
                leaving[key] = true
                moved.append(job)
                events += counts[key]
            }
            moved.sort { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            if moved.isEmpty { return Journal.CompactionPlan(leaveUnchanged: true) }
            // Pass 2: the seqs to drop, and (for real) the bundle, written whole before any rewrite.
            var drop: [UInt64] = []
            drop.reserveCapacity(events)
            var lastRemaining: UInt64 = 0
            func collect(writing: Bool, _ write: (UnsafeRawBufferPointer) throws -> Void) throws {
                var out = JSONBytes(capacity: 1 << 17)
                try journal.scanViews { e in
                    guard let key = ids.key(of: e.job), leaving[Int(key)] else {
                        lastRemaining = e.seq
                        return true
                    }
                    drop.append(e.seq)
                    if writing {
                        e.appendJSONLine(to: &out)
                        out.append(raw: "\n")
                        if out.count >= 1 << 16 {
                            try out.withUnsafeBytes { try write($0) }
                            out.removeAll()
                        }
                    }
                    return true
                }
                if writing, out.count > 0 { try out.withUnsafeBytes { try write($0) } }
            }
            if dryRun {
                try collect(writing: false) { _ in }
            } else {
                bundleBytes = try Journal.writeNewFile(at: bundle) { write in try collect(writing: true, write) }
            }
            let remaining = ids.ids.indices.lazy.filter { !leaving[$0] }.compactMap { projections.state(of: ids.ids[$0]) }
            let kept = Projections(states: remaining, coveredSeq: lastRemaining)
            return Journal.CompactionPlan(drop: drop, snapshot: (lastRemaining, SnapshotCodec.encode(kept)))
        }
        return ArchiveReport(
            jobs: moved, events: events, bundleBytes: bundleBytes, bytesBefore: compaction.bytesBefore,
            bytesAfter: compaction.bytesAfter, dryRun: dryRun)
    }
}
