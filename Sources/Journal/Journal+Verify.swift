import LMDB
import Lifecycle

extension Journal {
    /// What `verify` checked.
    public struct VerifyReport: Sendable {
        public var records: Int
        public var jobs: Int
        public var indexEntries: Int
    }

    /// Checks every record's CRC and format, that each stored event keeps the event rules (so sound
    /// means exportable and re-ingestable), and the per-job index against the log: every record has
    /// exactly its (version, seq) entry under its job, versions grow with seqs, and no entry points
    /// nowhere. Throws the first problem (naming the seq or job). One read snapshot throughout.
    /// `visit` sees every record, checked, as a view in seq order, so callers can fold in the same pass.
    ///
    /// Both B-trees are read in their own order, never searched: the log pass sums a 64-bit digest of
    /// each record's (job, version, seq), the index pass sums the same digest over the entries, and
    /// the two must agree in count and sum. Only when they disagree is the index searched record by
    /// record, to name the first problem in seq order.
    public func verify(progress: (Int) -> Void = { _ in }, visit: (EventView) -> Void = { _ in })
        throws(JournalError) -> VerifyReport
    {
        try verify(progress: progress) { event, _ in visit(event) }
    }

    /// `verify`, handing `visit` each record with its job's key: jobs numbered 0, 1, 2… in the order
    /// of their first record (the numbering `Projections.Replay` gives them too).
    public func verify(progress: (Int) -> Void = { _ in }, visitKeyed visit: (EventView, UInt32) -> Void)
        throws(JournalError) -> VerifyReport
    {
        do {
            return try env.read { txn in
                var records = 0
                // Each job's last version, by interned key (no string per record).
                var ids = InternedIDs()
                var lastVersion: [UInt64] = []
                var logDigest = IndexDigest()
                // Records are checked as they are read, then handled in batches of 32 (same
                // transaction, so the views stay valid) so the job lookups can look ahead.
                var batch: [EventView] = []
                batch.reserveCapacity(32)
                func handleBatch() throws {
                    try batch.withUnsafeBufferPointer { views in
                        try ids.intern(jobsOf: views) { i, key, inserted in
                            let e = views[i]
                            if inserted {
                                lastVersion.append(e.version)
                            } else {
                                let previous = lastVersion[Int(key)]
                                if previous >= e.version {
                                    throw JournalError.corruptIndex(
                                        job: e.jobString, detail: "seq \(e.seq) has version \(e.version) after version \(previous)")
                                }
                                lastVersion[Int(key)] = e.version
                            }
                            logDigest.add(job: key, version: e.version, seq: e.seq)
                            visit(e, key)
                            records += 1
                            if records % 65_536 == 0 { progress(records) }
                        }
                    }
                    batch.removeAll(keepingCapacity: true)
                }
                try txn.withCursor(log) { logCursor in
                    var entry = try logCursor.get(.first)
                    while let (k, v) = entry {
                        guard let seq = StorageKeys.seq(fromKey: k) else {
                            throw JournalError.corruptRecord(seq: 0, detail: "a log key of \(k.count) bytes")
                        }
                        batch.append(try RecordFormat.view(seq: seq, bytes: v, strict: true))
                        if batch.count == 32 { try handleBatch() }
                        entry = try logCursor.get(.next)
                    }
                    try handleBatch()
                }
                var indexDigest = IndexDigest()
                var indexJobsKnown = true
                try txn.withCursor(jobs) { index in
                    var entry = try index.get(.first)
                    while let (k, _) = entry, indexJobsKnown {
                        guard let key = ids.key(of: k) else {
                            indexJobsKnown = false  // entries for a job with no record: named below
                            break
                        }
                        while let (_, v) = entry {
                            guard let e = StorageKeys.IndexEntry(v) else {
                                throw JournalError.corruptIndex(
                                    job: String(decoding: k, as: UTF8.self), detail: "an entry of \(v.count) bytes")
                            }
                            indexDigest.add(job: key, version: e.version, seq: e.seq)
                            entry = try index.get(.nextDup)
                        }
                        entry = try index.get(.nextNoDup)
                    }
                }
                if !indexJobsKnown || indexDigest != logDigest {
                    try findIndexProblem(txn)
                    throw JournalError.corruptIndex(
                        job: "?", detail: "the index disagrees with the log (\(indexDigest.count) entries for \(records) records)")
                }
                progress(records)
                return VerifyReport(records: records, jobs: ids.count, indexEntries: indexDigest.count)
            }
        } catch {
            throw Journal.wrap(error)
        }
    }

    /// Searches the index for each record, in seq order, then the log for each entry; throws the
    /// first disagreement found.
    private func findIndexProblem(_ txn: borrowing Transaction) throws {
        try txn.withCursor(log) { logCursor in
            try txn.withCursor(jobs) { index in
                var entry = try logCursor.get(.first)
                while let (k, v) = entry {
                    guard let seq = StorageKeys.seq(fromKey: k) else { return }
                    let e = try RecordFormat.view(seq: seq, bytes: v, strict: false)
                    let found = try StorageKeys.IndexEntry(version: e.version, seq: seq).withBytes { value in
                        try index.get(.getBoth, key: e.job, value: value) != nil
                    }
                    if !found {
                        throw JournalError.corruptIndex(
                            job: e.jobString, detail: "no index entry for seq \(seq) (version \(e.version))")
                    }
                    entry = try logCursor.get(.next)
                }
            }
        }
        try txn.withCursor(jobs) { index in
            var entry = try index.get(.first)
            while let (k, v) = entry {
                let job = String(decoding: k, as: UTF8.self)
                guard let e = StorageKeys.IndexEntry(v) else {
                    throw JournalError.corruptIndex(job: job, detail: "an entry of \(v.count) bytes")
                }
                let record = try StorageKeys.withSeqKey(e.seq) { key in
                    try txn.get(log, key: key).map { try RecordFormat.view(seq: e.seq, bytes: $0, strict: false) }
                }
                guard let record else {
                    throw JournalError.corruptIndex(job: job, detail: "entry for seq \(e.seq), which is not in the log")
                }
                if !record.isJob(ExactID(job)) || record.version != e.version {
                    throw JournalError.corruptIndex(
                        job: job, detail: "entry (version \(e.version), seq \(e.seq)) but that record is version "
                            + "\(record.version) of job \(record.jobString.debugDescription)")
                }
                entry = try index.get(.next)
            }
        }
    }
}

/// An order-independent digest of (job key, version, seq) triples: a count and a wrapping sum of a
/// 64-bit mix of each (splitmix64's finaliser), so two sets agree only if they hold the same triples
/// (up to a chance of about 2⁻⁶⁴ for accidental damage).
struct IndexDigest: Equatable {
    private(set) var count = 0
    private var sum: UInt64 = 0

    @inline(__always)
    mutating func add(job: UInt32, version: UInt64, seq: UInt64) {
        var z = (UInt64(job) &* 0x9E37_79B9_7F4A_7C15) ^ (version &* 0xC2B2_AE3D_27D4_EB4F) ^ (seq &* 0x1656_67B1_9E37_79F9)
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        sum &+= z ^ (z >> 31)
        count += 1
    }
}
