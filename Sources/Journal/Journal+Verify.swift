import ConcurrencyKit
import LMDB
import Lifecycle
import Synchronization

extension Journal {
    /// What `verify` checked.
    package struct VerifyReport: Sendable {
        package var records: Int
        package var jobs: Int
        package var indexEntries: Int
        /// The seq of the last record checked (0 for an empty journal).
        package var lastSeq: UInt64
        /// Records carrying an event id, each found in the ids table (and no other entry there).
        package var eventIDs: Int = 0
    }

    /// Checks every record's CRC and format, that each stored event keeps the event rules (so sound
    /// means exportable and re-ingestable), and the per-job index against the log. Throws the first
    /// problem (naming the seq or job): the log's first in seq order, then the index's. One read
    /// snapshot throughout, split over threads when there is a second core; `progress` gets the
    /// records checked so far. How (order-free digests, the split, when a part runs here instead):
    /// docs/architecture.md, "Verify".
    package func verify(progress: (Int) -> Void = { _ in }) throws(JournalError) -> VerifyReport {
        do {
            return try env.read { txn in
                let snapshot = txn.snapshotID
                let (first, last) = try logBounds(txn)
                let split = last < first ? last : first + (last - first) / 2  // (1, 0) when empty
                let counted = CheckedCount()
                // Any failure there (another snapshot, a wait, an error) leaves the part to this thread.
                let secondHalf: BackgroundWork<Result<LogPass, JournalError>?>? =
                    Threads.hasSecondCore && last > split
                    ? BackgroundWork { [self] in
                        try? env.readWithoutWaiting { other in
                            guard other.snapshotID == snapshot else { return nil }
                            do {
                                return .success(try LogPass(other, log, from: split + 1, through: last, counted: counted))
                            } catch {
                                return .failure(Journal.wrap(error))
                            }
                        } ?? nil
                    } : nil
                let indexPass: BackgroundWork<IndexPass?>? =
                    Threads.hasSecondCore
                    ? BackgroundWork { [self] in
                        try? env.readWithoutWaiting { other in
                            other.snapshotID == snapshot ? try IndexPass(other, jobs, counted: counted) : nil
                        } ?? nil
                    } : nil
                let through = secondHalf == nil ? last : split
                var logPass: LogPass
                do {
                    logPass = try LogPass(txn, log, from: first, through: through, counted: counted, progress: progress)
                    if through < last {
                        switch secondHalf?.join() {
                        case .success(let pass)?: logPass.add(pass)
                        case .failure(let error)?: throw error
                        case nil: logPass.add(try LogPass(txn, log, from: split + 1, through: last, counted: counted, progress: progress))
                        }
                    }
                } catch {
                    counted.stop()  // the answer is this error: the other parts need not finish
                    throw error
                }
                let index = try indexPass?.join() ?? IndexPass(txn, jobs, counted: CheckedCount())
                if index.digest != logPass.digest {
                    try findIndexProblem(txn)
                    throw JournalError.corruptIndex(
                        job: "?",
                        detail: "the index disagrees with the log (\(index.digest.count) entries for \(logPass.records) records)")
                }
                if let problem = index.outOfOrder { throw problem }
                let eventIDs = try checkIDs(txn, logPass.idDigest)
                progress(logPass.records)
                return VerifyReport(
                    records: logPass.records, jobs: index.jobs, indexEntries: index.digest.count, lastSeq: logPass.lastSeq,
                    eventIDs: eventIDs)
            }
        } catch {
            throw Journal.wrap(error)
        }
    }

    /// Checks the ids table against the log, as the index is: the table read in its own order
    /// summed into an order-free digest of (id, seq) pairs, equal to the one the log pass summed
    /// over the records that carry ids. Only when they differ is each entry looked up, to name the
    /// first wrong one. Returns how many ids there are.
    private func checkIDs(_ txn: borrowing Transaction, _ fromLog: IndexDigest) throws -> Int {
        guard let ids else {
            if fromLog.count > 0 { throw JournalError.corruptIndex(job: "?", detail: "\(fromLog.count) events have ids but the journal has no ids table") }
            return 0
        }
        var table = IndexDigest()
        try txn.withCursor(ids) { c in
            var entry = try c.get(.first)
            while let (k, v) = entry {
                guard let id = StorageKeys.id(fromKey: k), let seq = StorageKeys.seq(fromKey: v) else {
                    throw JournalError.corruptIndex(job: "?", detail: "an ids entry of \(k.count)+\(v.count) bytes")
                }
                table.add(job: id.high, version: id.low, seq: seq)
                entry = try c.get(.next)
            }
        }
        if table == fromLog { return table.count }
        try findIDProblem(txn, ids)
        throw JournalError.corruptIndex(
            job: "?", detail: "the ids table disagrees with the log (\(table.count) entries for \(fromLog.count) events with ids)")
    }

    /// Looks each ids entry up in the log; throws the first that names a record without that id.
    private func findIDProblem(_ txn: borrowing Transaction, _ ids: Database) throws {
        try txn.withCursor(ids) { c in
            var entry = try c.get(.first)
            while let (k, v) = entry {
                guard let id = StorageKeys.id(fromKey: k), let seq = StorageKeys.seq(fromKey: v) else { return }
                let named: EventID?? = try StorageKeys.withSeqKey(seq) { key in
                    try txn.get(log, key: key).map { try RecordFormat.view(seq: seq, bytes: $0, strict: false).id }
                }
                guard case .some(.some(let found)) = named, found == id else {
                    let what = named.flatMap { $0 }.map { "whose event has id \($0)" } ?? "which is not in the log or has no id"
                    throw JournalError.corruptIndex(job: "?", detail: "event id \(id) names seq \(seq), \(what)")
                }
                entry = try c.get(.next)
            }
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

/// Records of the log in `from...through` read in order, each checked strictly and summed into a digest.
struct LogPass: Sendable {
    var digest = IndexDigest()
    var records = 0
    var lastSeq: UInt64 = 0
    /// The (id, seq) pairs of the records that carry ids.
    var idDigest = IndexDigest()

    init(
        _ txn: borrowing Transaction, _ log: Database, from: UInt64, through: UInt64, counted: CheckedCount,
        progress: (Int) -> Void = { _ in }
    ) throws {
        var digest = IndexDigest()
        var records = 0
        var lastSeq: UInt64 = 0
        var idDigest = IndexDigest()
        try txn.withCursor(log) { c in
            var entry = try StorageKeys.withSeqKey(from) { k in try c.get(.setRange, key: k) }
            while let (k, v) = entry {
                guard let seq = StorageKeys.seq(fromKey: k) else {
                    throw JournalError.corruptRecord(seq: 0, detail: "a log key of \(k.count) bytes")
                }
                if seq > through { break }
                let e = try RecordFormat.view(seq: seq, bytes: v, strict: true)
                digest.add(job: IndexDigest.hash(e.job), version: e.version, seq: seq)
                if let id = e.id { idDigest.add(job: id.high, version: id.low, seq: seq) }
                lastSeq = seq
                records += 1
                if records % 16_384 == 0 {
                    if counted.isStopped { throw VerifyStopped() }
                    let all = counted.add(16_384)
                    if records % 65_536 == 0 { progress(all) }
                }
                entry = try c.get(.next)
            }
        }
        counted.add(records % 16_384)
        (self.digest, self.records, self.lastSeq, self.idDigest) = (digest, records, lastSeq, idDigest)
    }

    /// Adds a later part of the log.
    mutating func add(_ later: LogPass) {
        digest.add(later.digest)
        records += later.records
        idDigest.add(later.idDigest)
        if later.records > 0 { lastSeq = later.lastSeq }
    }
}

/// Records checked so far, by every thread of a `verify` (for its progress), and whether the parts
/// still running should stop (another part has failed: its error is the answer).
final class CheckedCount: Sendable {
    private let count = Atomic<Int>(0)
    private let stopped = Atomic<Bool>(false)
    /// Adds `n`; returns the new total.
    @discardableResult
    func add(_ n: Int) -> Int { count.add(n, ordering: .relaxed).newValue }

    /// Tells the parts still running to stop at their next check (every 16,384 records or entries).
    func stop() { stopped.store(true, ordering: .relaxed) }
    var isStopped: Bool { stopped.load(ordering: .relaxed) }
}

/// Thrown by a part of `verify` told to stop; never reaches a caller (the failure that stopped it does).
struct VerifyStopped: Error {}

/// The index read in its own order: each job's entries (sorted by version, then seq) summed into a
/// digest, and the first job whose seqs do not grow with its versions.
struct IndexPass: Sendable {
    var digest = IndexDigest()
    var jobs = 0
    /// A job whose entries, in version order, do not have growing versions and seqs.
    var outOfOrder: JournalError?

    init(_ txn: borrowing Transaction, _ jobs: Database, counted: CheckedCount) throws {
        var digest = IndexDigest()
        var count = 0
        var entries = 0
        var outOfOrder: JournalError?
        try txn.withCursor(jobs) { index in
            var entry = try index.get(.first)
            while let (k, _) = entry {
                count += 1
                let job = IndexDigest.hash(k)
                var previous: StorageKeys.IndexEntry?
                while let (_, v) = entry {
                    guard let e = StorageKeys.IndexEntry(v) else {
                        throw JournalError.corruptIndex(
                            job: String(decoding: k, as: UTF8.self), detail: "an entry of \(v.count) bytes")
                    }
                    if let p = previous, outOfOrder == nil, p.version >= e.version || p.seq >= e.seq {
                        outOfOrder = JournalError.corruptIndex(
                            job: String(decoding: k, as: UTF8.self),
                            detail: "versions do not grow with seqs: version \(p.version) is seq \(p.seq), "
                                + "version \(e.version) is seq \(e.seq)")
                    }
                    previous = e
                    digest.add(job: job, version: e.version, seq: e.seq)
                    entries += 1
                    if entries % 16_384 == 0, counted.isStopped { throw VerifyStopped() }
                    entry = try index.get(.nextDup)
                }
                entry = try index.get(.nextNoDup)
            }
        }
        (self.digest, self.jobs, self.outOfOrder) = (digest, count, outOfOrder)
    }
}

/// An order-independent digest of (job, version, seq) triples: a count and a wrapping sum of a
/// 64-bit mix of each (splitmix64's finaliser) over the job's 64-bit hash, so two sets agree only
/// if they hold the same triples (up to a chance of about 2⁻⁶⁴ for accidental damage; the hash is
/// seeded per process, so no crafted id can aim at it).
struct IndexDigest: Equatable, Sendable {
    private(set) var count = 0
    private var sum: UInt64 = 0

    /// A hasher with the process's seed and nothing combined yet (copied, not set up per id).
    private static let seeded = Hasher()

    @inline(__always)
    static func hash(_ job: UnsafeRawBufferPointer) -> UInt64 {
        var hasher = seeded
        hasher.combine(bytes: job)
        return UInt64(UInt(bitPattern: hasher.finalize()))
    }

    /// Adds the triples of another digest.
    mutating func add(_ other: IndexDigest) {
        count += other.count
        sum &+= other.sum
    }

    @inline(__always)
    mutating func add(job: UInt64, version: UInt64, seq: UInt64) {
        var z = (job &* 0x9E37_79B9_7F4A_7C15) ^ (version &* 0xC2B2_AE3D_27D4_EB4F) ^ (seq &* 0x1656_67B1_9E37_79F9)
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        sum &+= z ^ (z >> 31)
        count += 1
    }
}
