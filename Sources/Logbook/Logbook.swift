@_exported import Journal
@_exported import Lifecycle
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The embedding API: a journal of job events plus the projections folded from it.
///
///     let logbook = try Logbook.open(at: "jobs.journal")
///     let outcome = try await logbook.append(Event(job: "scan-3", type: .cancelled))
///     outcome.state.status   // .cancelled, and nothing will ever un-cancel it
///
/// Safe to call from many tasks at once: appends go through the journal's group commit; queries
/// read the in-memory projections under a short lock. Opening loads the newest snapshot and folds
/// only the events after it.
public final class Logbook: Sendable {
    public struct Options: Sendable {
        public var durability: Journal.Durability = .durable
        /// Open read-only: no appends, no snapshots; works while another process appends.
        public var readOnly = false
        /// Write a snapshot automatically after this many events (nil: only on demand).
        public var snapshotEvery: Int? = 100_000
        public var initialMapSize = 1 << 30
        /// The clock that stamps append times.
        public var clock: @Sendable () -> Timestamp = Journal.systemClock
        /// Where warnings go (a snapshot that could not be used, a failed automatic snapshot).
        public var warn: @Sendable (String) -> Void = { message in
            let line = Array("logbook: warning: \(message)\n".utf8)
            _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
        }

        public init() {}
    }

    /// How the projections were rebuilt at open.
    public struct OpenReport: Sendable {
        /// The seq covered by the snapshot that was used, or nil for a full replay.
        public var snapshotSeq: UInt64?
        /// Events folded after the snapshot (all events on a full replay).
        public var eventsFolded: Int
        /// Why a snapshot was present but not used.
        public var snapshotRejected: String?
        public var milliseconds: Double
    }

    public let journal: Journal
    public let options: Options
    public let openReport: OpenReport
    let projections: Mutex<Projections>
    let followers = Mutex(FollowerRegistry())
    let autoSnapshot = Mutex(AutoSnapshotState())

    public static func open(at path: String, options: Options = Options()) throws(JournalError) -> Logbook {
        try Logbook(path: path, options: options)
    }

    private init(path: String, options: Options) throws(JournalError) {
        let started = Logbook.monotonicMilliseconds()
        var journalOptions = Journal.Options()
        journalOptions.durability = options.durability
        journalOptions.readOnly = options.readOnly
        journalOptions.initialMapSize = options.initialMapSize
        journalOptions.clock = options.clock
        journal = try Journal.open(at: path, options: journalOptions)
        self.options = options
        do {
            let (loaded, report) = try Logbook.rebuild(journal, warn: options.warn)
            projections = Mutex(loaded)
            var r = report
            r.milliseconds = Logbook.monotonicMilliseconds() - started
            openReport = r
        } catch {
            journal.close()
            throw error
        }
        if !options.readOnly {
            journal.observeCommits { [weak self] events in self?.absorb(events) }
        }
    }

    /// Stops appends (pending ones finish), ends live followers and closes the journal. Idempotent.
    public func close() {
        journal.close()
        followers.withLock { $0.finishAll() }
    }

    /// Called on the writer thread with each committed batch, in seq order.
    private func absorb(_ events: [RecordedEvent]) {
        guard let first = events.first else { return }
        var delivered: [RecordedEvent] = []
        let due = projections.withLock { p -> Bool in
            // Another process may have appended since our last batch: fold its events first.
            if first.seq > p.coveredSeq + 1 {
                do {
                    let missed = try journal.events(from: p.coveredSeq + 1, through: first.seq - 1)
                    for e in missed { p.apply(e) }
                    delivered = missed
                } catch {
                    options.warn("could not fold events appended by another process: \(error); reopen to rebuild")
                }
            }
            for e in events where e.seq > p.coveredSeq { p.apply(e) }
            return autoSnapshot.withLock { $0.count(events.count + delivered.count, every: options.snapshotEvery) }
        }
        delivered.append(contentsOf: events)
        followers.withLock { $0.deliver(delivered) }
        if due { startAutomaticSnapshot() }
    }

    /// Folds events appended by other processes since the projections were last brought up to date
    /// (for read-only logbooks that live long, such as a dashboard).
    public func refresh() throws(JournalError) {
        let covered = projections.withLock { $0.coveredSeq }
        let tail = try journal.events(from: covered + 1)
        guard !tail.isEmpty else { return }
        projections.withLock { p in
            for e in tail where e.seq > p.coveredSeq { p.apply(e) }
        }
    }

    static func monotonicMilliseconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) * 1000 + Double(ts.tv_nsec) / 1_000_000
    }
}
