import Journal
import Lifecycle

/// What the front ends (CLI, service) need from storage, and nothing more: they reach the journal
/// only through these and the rest of the Logbook API, so a different backend can plug in below.
extension Logbook.Maintenance {
    /// The highest seq assigned so far (0 for an empty journal), as stored.
    public func lastSeq() throws(JournalError) -> UInt64 { try logbook.journal.lastSeq() }

    /// Figures about the stored log, for `stats`.
    public struct StorageStatistics: Sendable {
        public var events = 0
        public var firstSeq: UInt64?
        public var lastSeq: UInt64 = 0
        /// The earliest and latest `at` stamped on any event (writers' clocks disagree, so these are
        /// not the `at` of the first and last seq).
        public var earliestAt: Timestamp?
        public var latestAt: Timestamp?
        public var eventsByType: [EventType: Int] = [:]
        public var snapshotSeq: UInt64?
        public var fileBytes = 0
        public var mapBytes = 0
        /// The shared log this journal is a replica of (docs/scale-out.md), and the place in it of
        /// the last record applied; nil for an ordinary journal.
        public var replicaOf: String?
        public var replicaCursor: ReplicaCursor?
    }

    /// Reads the whole log once (records in place, no string per event) for `StorageStatistics`.
    public func storageStatistics() throws(JournalError) -> StorageStatistics {
        let journal = logbook.journal
        var s = StorageStatistics()
        var byType = [Int](repeating: 0, count: 256)
        try journal.scanViews { e in
            if s.firstSeq == nil { s.firstSeq = e.seq }
            s.earliestAt = min(s.earliestAt ?? e.at, e.at)
            s.latestAt = max(s.latestAt ?? e.at, e.at)
            byType[Int(e.type.rawValue)] += 1
            s.events += 1
            return true
        }
        for type in EventType.allCases where byType[Int(type.rawValue)] > 0 { s.eventsByType[type] = byType[Int(type.rawValue)] }
        s.lastSeq = try journal.lastSeq()
        s.snapshotSeq = try journal.latestSnapshot()?.seq
        s.fileBytes = journal.fileSize
        s.mapBytes = journal.mapSize
        s.replicaOf = try journal.sharedLogFollowed()
        s.replicaCursor = try journal.replicaCursor()
        return s
    }

    /// Bytes still free on the filesystem holding the journal (nil when it cannot be asked): what
    /// `/metrics` shows, and what an operator watches before the disk fills.
    public func freeBytes() -> Int? { logbook.journal.freeBytes }

    /// The write failure that stopped this logbook's writer (`JournalError.writeFailed`), nil while
    /// it writes. Once set, every append is refused with `writesStopped` until the logbook is closed
    /// and opened again (docs/architecture.md, "A failing disk"); `/healthz` reports it.
    public func writesStoppedBy() -> JournalError? { logbook.journal.writesStoppedBy }

    /// Claims the journal for this logbook's service: a second claim by any process is refused with
    /// `JournalError.alreadyServed` while this logbook is open. Other readers and appenders are not
    /// affected (`logbook serve` claims; CLI commands beside it do not).
    public func claimService() throws(JournalError) { try logbook.journal.claimService() }

    /// Clears reader slots left by dead processes; returns how many (the service's reaper does this
    /// every pass, so a killed reader never pins old pages for long).
    @discardableResult
    public func clearStaleReaders() throws(JournalError) -> Int { try logbook.journal.clearStaleReaders() }

    /// Registers `observer` to see every committed batch, in seq order, just before its caller is
    /// answered (for metrics). Keep it short: it delays acknowledgements. On a shared log: every
    /// batch this node's follower applies, whichever node appended it.
    public func observeCommits(_ observer: @escaping @Sendable ([RecordedEvent]) -> Void) {
        if let shared = logbook.shared {
            shared.commitObservers.withLock { $0.append(observer) }
        } else {
            logbook.journal.observeCommits(observer)
        }
    }

    /// Registers `observer` to learn the number of events of each group commit (for metrics). On a
    /// shared log: each of this node's shared-log transactions.
    public func observeGroupCommits(_ observer: @escaping @Sendable (Int) -> Void) {
        if let shared = logbook.shared {
            shared.groupObservers.withLock { $0.append(observer) }
        } else {
            logbook.journal.observeGroupCommits(observer)
        }
    }

    /// The number of events stored in the journal at `path`, without folding anything (for a
    /// progress bar's total, or to check that a journal is empty).
    public static func eventCount(at path: String) throws(JournalError) -> Int {
        let journal = try Journal.open(at: path, options: .forReading)
        defer { journal.close() }
        return try journal.eventCount()
    }

    /// Writes the journal at `path` as JSON Lines in the ingest format (`export`), in seq order,
    /// handing `write` chunks of about 64 KiB, without folding the journal first; returns how many
    /// events. With no filter: every event. With `jobs`: the full history of each (an unknown job is
    /// refused with `Refusal.noSuchJob` before anything is written). With `since`/`until`: the full
    /// history of every job with an event in that window. Both: those jobs, if they have one (AND).
    @discardableResult
    public static func export(
        at path: String, jobs: [String] = [], since: Timestamp? = nil, until: Timestamp? = nil,
        _ write: (UnsafeRawBufferPointer) -> Void
    ) throws -> Int {
        let journal = try Journal.open(at: path, options: .forReading)
        defer { journal.close() }
        for job in jobs where try journal.version(of: job) == 0 { throw Logbook.Refusal.noSuchJob(job) }
        return try journal.exportJSONLines(jobs: jobs, since: since, until: until, write)
    }
}

extension Logbook {
    /// The wall clock that stamps appends (UTC, microseconds): front ends use it for "now".
    public static let systemClock: @Sendable () -> Timestamp = Journal.systemClock
}
