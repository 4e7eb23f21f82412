import Lifecycle
import Logbook
import Logging
import ServiceLifecycle
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// What the service's retention did last (for `/healthz` and `/metrics`).
public final class RetentionStatus: Sendable {
    /// A drop of superseded heartbeats.
    public struct Run: Sendable, Equatable {
        public var at: Timestamp
        public var milliseconds: Double
        public var dropped: Int
        public var error: String?
    }

    /// An archive of finished jobs into a dated bundle.
    public struct ArchiveRun: Sendable, Equatable {
        public var at: Timestamp
        public var milliseconds: Double
        public var jobs: Int
        public var events: Int
        /// The bundle written (nil when no job qualified).
        public var bundle: String?
        public var error: String?
    }

    private let last = Mutex<Run?>(nil)
    private let lastArchiveRun = Mutex<ArchiveRun?>(nil)
    private let total = Mutex<(pruned: Int, archivedJobs: Int)>((0, 0))

    /// Which tasks are scheduled (each shows in `/healthz` only when it is).
    public let drops: Bool
    public let archives: Bool

    public init(drops: Bool = true, archives: Bool = false) { (self.drops, self.archives) = (drops, archives) }

    public var lastRun: Run? { last.withLock { $0 } }
    public var lastArchive: ArchiveRun? { lastArchiveRun.withLock { $0 } }
    /// Events removed by every run since the service started (dropped heartbeats and archived events).
    public var pruned: Int { total.withLock { $0.pruned } }
    /// Jobs archived since the service started.
    public var archivedJobs: Int { total.withLock { $0.archivedJobs } }

    func record(_ run: Run) {
        last.withLock { $0 = run }
        total.withLock { $0.pruned += run.dropped }
    }

    func record(_ run: ArchiveRun) {
        lastArchiveRun.withLock { $0 = run }
        total.withLock {
            $0.pruned += run.events
            $0.archivedJobs += run.jobs
        }
    }
}

/// `serve --drop-superseded-heartbeats-every DUR` and `serve --archive-every DUR`: retention in
/// place on a schedule, beside the service's own appends (each step takes its turn in the writer's
/// queue), so a journal whose jobs run for months stops growing (docs/operations.md, "Retention
/// without downtime"). Each task runs on its own interval, the first time one interval after start.
public struct Retention: Service {
    /// Archiving on a schedule: jobs finished and quiet for longer than `after` move into a new
    /// bundle in `directory`, named for the run's time (`archive-20261204T031500Z.jsonl`).
    public struct ArchiveSchedule: Sendable {
        public var every: Duration
        public var afterMicroseconds: Int64
        public var directory: String
        public init(every: Duration, afterMicroseconds: Int64, directory: String) {
            (self.every, self.afterMicroseconds, self.directory) = (every, afterMicroseconds, directory)
        }
    }

    let logbook: Logbook
    let dropEvery: Duration?
    let archive: ArchiveSchedule?
    let status: RetentionStatus
    let metrics: ServerMetrics
    let clock: @Sendable () -> Timestamp
    let logger: Logger

    public init(
        logbook: Logbook, interval: Duration?, archive: ArchiveSchedule? = nil, status: RetentionStatus, metrics: ServerMetrics,
        logger: Logger, clock: @escaping @Sendable () -> Timestamp = Logbook.systemClock
    ) {
        (self.logbook, self.dropEvery, self.archive, self.status, self.metrics, self.logger, self.clock) =
            (logbook, interval, archive, status, metrics, logger, clock)
    }

    public func run() async throws {
        let start = ContinuousClock.now
        var nextDrop = dropEvery.map { start + $0 }
        var nextArchive = archive.map { start + $0.every }
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            guard let due = [nextDrop, nextArchive].compactMap({ $0 }).min() else { return }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(until: due, clock: .continuous) }
            if Task.isShuttingDownGracefully || Task.isCancelled { return }
            let now = ContinuousClock.now
            if let d = nextDrop, d <= now, let every = dropEvery {
                await runOnce()
                nextDrop = max(d + every, ContinuousClock.now)
            }
            if let a = nextArchive, a <= now, let archive {
                await archiveOnce()
                nextArchive = max(a + archive.every, ContinuousClock.now)
            }
        }
    }

    /// One drop: removes what is superseded now, records and logs how it went.
    @discardableResult
    public func runOnce() async -> RetentionStatus.Run {
        let started = ContinuousClock.now
        var run = RetentionStatus.Run(at: clock(), milliseconds: 0, dropped: 0, error: nil)
        do {
            let report = try await logbook.maintenance.dropSupersededHeartbeats()
            run.dropped = report.dropped
        } catch {
            run.error = "\(error)"
        }
        run.milliseconds = Self.milliseconds(since: started)
        status.record(run)
        metrics.recordRetention(at: run.at, milliseconds: run.milliseconds, removed: run.dropped)
        if let error = run.error {
            logger.error("retention: dropping superseded heartbeats failed", metadata: ["error": "\(error)"])
        } else {
            logger.info(
                "retention: dropped superseded heartbeats",
                metadata: ["dropped": "\(run.dropped)", "ms": "\(Int(run.milliseconds))"])
        }
        return run
    }

    /// One archive: moves the jobs finished and quiet for longer than the schedule says into a new
    /// dated bundle (none is written when no job qualifies); records and logs how it went.
    @discardableResult
    public func archiveOnce() async -> RetentionStatus.ArchiveRun {
        let started = ContinuousClock.now
        let at = clock()
        var run = RetentionStatus.ArchiveRun(at: at, milliseconds: 0, jobs: 0, events: 0, bundle: nil, error: nil)
        if let archive {
            do {
                let bundle = Self.bundlePath(in: archive.directory, at: at)
                let report = try await logbook.maintenance.archive(
                    finalizedBefore: at.subtracting(microseconds: archive.afterMicroseconds), to: bundle)
                run.jobs = report.jobs.count
                run.events = report.events
                run.bundle = report.jobs.isEmpty ? nil : bundle
                if let finished = report.finished {
                    logger.notice(
                        "retention: finished an interrupted archive", metadata: ["bundle": "\(finished.bundle)", "jobs": "\(finished.jobs)"])
                }
            } catch {
                run.error = "\(error)"
            }
        }
        run.milliseconds = Self.milliseconds(since: started)
        status.record(run)
        metrics.recordRetention(at: run.at, milliseconds: run.milliseconds, removed: run.events, archivedJobs: run.jobs)
        if let error = run.error {
            logger.error("retention: archiving finished jobs failed", metadata: ["error": "\(error)"])
        } else {
            logger.info(
                "retention: archived finished jobs",
                metadata: ["jobs": "\(run.jobs)", "events": "\(run.events)", "bundle": "\(run.bundle ?? "none")", "ms": "\(Int(run.milliseconds))"])
        }
        return run
    }

    /// `DIR/archive-YYYYMMDDTHHMMSSZ.jsonl`, with `-2`, `-3`… when a run of the same second wrote one.
    static func bundlePath(in directory: String, at time: Timestamp) -> String {
        let stamp = String(time.rfc3339.prefix(19)).replacingOccurrences(of: "-", with: "").replacingOccurrences(of: ":", with: "")
        let base = (directory.hasSuffix("/") ? directory : directory + "/") + "archive-" + stamp + "Z"
        var path = base + ".jsonl"
        var n = 2
        while access(path, F_OK) == 0 {
            path = base + "-\(n).jsonl"
            n += 1
        }
        return path
    }

    private static func milliseconds(since started: ContinuousClock.Instant) -> Double {
        let elapsed = (ContinuousClock.now - started).components
        return Double(elapsed.seconds) * 1_000 + Double(elapsed.attoseconds) / 1e15
    }
}
