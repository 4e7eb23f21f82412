import Lifecycle
import Logbook
import Logging
import ServiceLifecycle
import Synchronization

/// What the service's retention did last (for `/healthz` and `/metrics`).
public final class RetentionStatus: Sendable {
    public struct Run: Sendable, Equatable {
        public var at: Timestamp
        public var milliseconds: Double
        public var dropped: Int
        public var error: String?
    }

    private let last = Mutex<Run?>(nil)
    private let total = Mutex<Int>(0)

    public init() {}

    public var lastRun: Run? { last.withLock { $0 } }
    /// Events removed by every run since the service started.
    public var pruned: Int { total.withLock { $0 } }

    func record(_ run: Run) {
        last.withLock { $0 = run }
        total.withLock { $0 += run.dropped }
    }
}

/// `serve --drop-superseded-heartbeats-every DUR`: drops superseded heartbeats in place on a
/// schedule, beside the service's own appends (each step takes its turn in the writer's queue), so
/// a journal whose jobs heartbeat for months stops growing (docs/operations.md, "Retention without
/// downtime").
public struct Retention: Service {
    let logbook: Logbook
    let interval: Duration
    let status: RetentionStatus
    let metrics: ServerMetrics
    let clock: @Sendable () -> Timestamp
    let logger: Logger

    public init(
        logbook: Logbook, interval: Duration, status: RetentionStatus, metrics: ServerMetrics, logger: Logger,
        clock: @escaping @Sendable () -> Timestamp = Logbook.systemClock
    ) {
        (self.logbook, self.interval, self.status, self.metrics, self.logger, self.clock) = (logbook, interval, status, metrics, logger, clock)
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            if Task.isShuttingDownGracefully || Task.isCancelled { return }
            await runOnce()
        }
    }

    /// One run: drops what is superseded now, records and logs how it went.
    @discardableResult
    public func runOnce() async -> RetentionStatus.Run {
        let started = ContinuousClock.now
        let at = clock()
        var run = RetentionStatus.Run(at: at, milliseconds: 0, dropped: 0, error: nil)
        do {
            let report = try await logbook.maintenance.dropSupersededHeartbeats()
            run.dropped = report.dropped
        } catch {
            run.error = "\(error)"
        }
        let elapsed = (ContinuousClock.now - started).components
        run.milliseconds = Double(elapsed.seconds) * 1_000 + Double(elapsed.attoseconds) / 1e15
        status.record(run)
        metrics.recordRetention(run)
        if let error = run.error {
            logger.error("retention: dropping superseded heartbeats failed", metadata: ["error": "\(error)"])
        } else {
            logger.info(
                "retention: dropped superseded heartbeats",
                metadata: ["dropped": "\(run.dropped)", "ms": "\(Int(run.milliseconds))"])
        }
        return run
    }
}
