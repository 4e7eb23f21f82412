import ConcurrencyKit
import Journal
import Lifecycle
import Synchronization

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
        /// Whether an append waits for its fsync (`.durable`) or not (`.noSync`). Default: `.durable`.
        public var durability: Durability = .durable
        /// Open read-only: no appends, no snapshots; works while another process appends. Default: false.
        public var readOnly = false
        /// Create the journal when it is missing (writable opens only). Default: true.
        public var create = true
        /// Write a snapshot automatically after this many events (nil: only on demand). Default: 100,000.
        public var snapshotEvery: Int? = 100_000
        /// Initial map size in bytes; the map grows by itself. Default: 1 GiB.
        public var initialMapSize = 1 << 30
        /// The clock that stamps append times (injectable for tests). Default: the system's wall clock.
        public var clock: @Sendable () -> Timestamp = Journal.systemClock
        /// How often to look for events appended by other processes (a CLI `append` beside a service,
        /// another writer) and fold them in, so queries, followers and the reaper see them. LMDB has no
        /// change notifications, so this polls the log's last seq: one short read transaction per tick.
        /// Default: 250 ms; nil: only at this logbook's own appends and at `refresh()`.
        public var foreignAppendPollInterval: Duration? = .milliseconds(250)
        /// A shared log this logbook writes through and follows (docs/scale-out.md): with it, the journal
        /// is this node's replica. Appends are committed to the shared log and answered once applied
        /// here; a follower applies every node's events. An empty journal becomes a replica at open; a
        /// journal with events of its own, or following another log, is refused (`notAReplica`). The
        /// logbook does not shut the shared log down. Read-only logbooks only read the replica.
        public var sharedLog: (any SharedLog)?
        /// How often the follower looks for new events when no notification came (it is woken by the
        /// shared log's notifications and by this node's commits). Default: 500 ms.
        public var sharedLogPollInterval: Duration = .milliseconds(500)
        /// How long an append whose commit failed without an answer per batch (unreachable, a lost
        /// acknowledgement, a failover) is retried with the same event ids before it fails. Default: 15 s.
        public var sharedLogRetryWindow: Duration = .seconds(15)
        /// Where warnings go (a snapshot that could not be used, a failed automatic snapshot). Default:
        /// standard error, one line each, prefixed `logbook: warning: `.
        public var warn: @Sendable (String) -> Void = Journal.Options().warn

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

    /// The storage. Front ends never see it: they use the Logbook API (Logbook+Storage.swift).
    let journal: Journal
    public let options: Options
    public let openReport: OpenReport
    let projections: Mutex<Projections>
    /// The removal generation the projections have absorbed (Journal+JobRemoval.swift); changed only
    /// under the projections' lock.
    let removalsAbsorbed = Atomic<UInt64>(0)
    /// The last seq folded in, and the followers waiting for the next.
    let commits: Watermark
    let autoSnapshot = Mutex(AutoSnapshotState())
    /// The task that folds other processes' appends in (see `Options.foreignAppendPollInterval`).
    let watcher = Mutex<Task<Void, Never>?>(nil)
    /// Whether the watcher already warned about a failed fold (it warns once, not every tick).
    let watcherWarned = Atomic<Bool>(false)
    /// Who follows which job's state (`changes(of:)`).
    let jobWatchers = JobWatchers()
    /// The shared log and its follower, when this journal is a replica (Logbook+SharedLog.swift).
    let shared: SharedReplication?

    public static func open(at path: String, options: Options = Options()) throws(JournalError) -> Logbook {
        try Logbook(path: path, options: options)
    }

    private init(path: String, options: Options) throws(JournalError) {
        let started = ContinuousClock.now
        var journalOptions = Journal.Options()
        journalOptions.durability = options.durability
        journalOptions.readOnly = options.readOnly
        journalOptions.create = options.create
        journalOptions.initialMapSize = options.initialMapSize
        journalOptions.clock = options.clock
        journalOptions.warn = options.warn
        journal = try Journal.open(at: path, options: journalOptions)
        self.options = options
        shared = options.readOnly ? nil : options.sharedLog.map { SharedReplication(log: $0, retryWindow: options.sharedLogRetryWindow) }
        do {
            if let log = options.sharedLog, !options.readOnly { try journal.becomeReplica(of: log.name) }
            let (loaded, generation, report) = try Logbook.rebuild(journal, warn: options.warn)
            projections = Mutex(loaded)
            removalsAbsorbed.store(generation, ordering: .relaxed)
            commits = Watermark(loaded.coveredSeq)
            var r = report
            r.milliseconds = (ContinuousClock.now - started) / .milliseconds(1)
            openReport = r
        } catch {
            journal.close()
            throw error
        }
        if !options.readOnly {
            journal.observeCommits { [weak self] events in self?.absorb(events) }
        }
        if let interval = options.foreignAppendPollInterval { startWatcher(every: interval) }
        if let shared { startFollowing(shared) }
    }

    /// Stops appends (pending ones finish), ends live followers and closes the journal. Idempotent.
    public func close() {
        shared?.close()
        watcher.withLock { $0?.cancel() }
        journal.close()
        commits.close()
        jobWatchers.finishAll()
    }

    /// Called on the writer thread with each committed batch, in seq order.
    func absorb(_ events: [RecordedEvent]) {
        guard let first = events.first else { return }
        var foreign = 0
        var watched: [(AsyncStream<JobState>.Continuation, JobState)] = []
        let due = projections.withLock { p -> Bool in
            // Another process may have appended since our last batch: fold its events first.
            if first.seq > p.coveredSeq + 1 {
                do {
                    let missed = try journal.events(from: p.coveredSeq + 1, through: first.seq - 1)
                    for e in missed { p.apply(e) }
                    foreign = missed.count
                    watched = jobWatchers.due(for: missed, in: p)
                } catch {
                    options.warn("could not fold events appended by another process: \(error); reopen to rebuild")
                }
            }
            // A job removed in place (an online archive) since: fold it again before this batch,
            // which may have created it anew.
            if journal.removalGenerationAtLastCommit > removalsAbsorbed.load(ordering: .relaxed) {
                do { try absorbRemovals(&p) } catch {
                    options.warn("could not fold jobs removed by an archive: \(error); reopen to rebuild")
                }
            }
            for e in events where e.seq > p.coveredSeq { p.apply(e) }
            watched += jobWatchers.due(for: events, in: p)
            return autoSnapshot.withLock { $0.count(events.count + foreign, every: options.snapshotEvery) }
        }
        commits.publish(events[events.count - 1].seq)
        watched.deliver()
        if due { startAutomaticSnapshot() }
    }

    /// Folds events appended by other processes since the projections were last brought up to date,
    /// and wakes followers. The watcher calls it every `foreignAppendPollInterval`; call it yourself
    /// to see another process's appends at once. Returns how many events it folded.
    @discardableResult
    public func refresh() throws(JournalError) -> Int {
        var folded = 0
        if try journal.removalGeneration() > removalsAbsorbed.load(ordering: .relaxed) {
            try projections.withLock { p throws(JournalError) in try absorbRemovals(&p) }
        }
        while true {
            // Read outside the lock, in chunks, so queries never wait on a long read; apply only what
            // is still new (this logbook's own writer may have folded some meanwhile).
            let covered = projections.withLock { $0.coveredSeq }
            let tail = try journal.events(from: covered + 1, limit: 65_536)
            guard let last = tail.last else { break }
            let (applied, watched) = projections.withLock { p in
                var n = 0
                for e in tail where e.seq > p.coveredSeq {
                    p.apply(e)
                    n += 1
                }
                return (n, jobWatchers.due(for: tail.suffix(n), in: p))
            }
            folded += applied
            commits.publish(last.seq)
            watched.deliver()
        }
        if folded > 0, !options.readOnly, autoSnapshot.withLock({ $0.count(folded, every: options.snapshotEvery) }) {
            startAutomaticSnapshot()
        }
        return folded
    }

    /// Folds again, from what the log holds now, every job removed in place since the generation
    /// the projections absorbed (called with the projections' lock held). A removed job is
    /// forgotten; one created again since is the job its new events make.
    func absorbRemovals(_ p: inout Projections) throws(JournalError) {
        let seen = removalsAbsorbed.load(ordering: .relaxed)
        let (generation, jobs) = try journal.jobsRemoved(after: seen)
        guard generation > seen else { return }
        for job in Set(jobs.map { ExactID($0) }) {
            p.refold(job.string, from: try journal.events(ofJob: job.string, throughSeq: p.coveredSeq))
        }
        removalsAbsorbed.store(generation, ordering: .relaxed)
    }

    private func startWatcher(every interval: Duration) {
        let task = Task.detached { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                guard let self, !Task.isCancelled else { return }
                do throws(JournalError) {
                    try self.refresh()
                } catch {
                    if case .closed = error { return }
                    if !self.watcherWarned.exchange(true, ordering: .relaxed) {
                        self.options.warn("could not fold events appended by another process: \(error)")
                    }
                }
            }
        }
        watcher.withLock { $0 = task }
    }
}
