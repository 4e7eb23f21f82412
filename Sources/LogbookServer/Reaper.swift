import Lifecycle
import Logbook
import Logging
import ServiceLifecycle

/// Interrupts running jobs whose current attempt has been silent for longer than the lease, and,
/// when a stall timeout is set, those whose attempt has made no progress for longer than that (a
/// hung worker whose heartbeat still runs: seed 003's download).
///
/// It appends `interrupted` (reason `leaseExpired`, or `stalled`) with the version it read, so a job that
/// heartbeated in between is left alone: the append is refused as a version conflict rather than
/// applied over fresher news (the HA runner's requeue race).
public struct Reaper: Service {
    let logbook: Logbook
    let leaseMicroseconds: Int64
    let stallMicroseconds: Int64?
    let interval: Duration
    let clock: @Sendable () -> Timestamp
    let logger: Logger

    public init(
        logbook: Logbook, leaseMicroseconds: Int64, stallMicroseconds: Int64? = nil, interval: Duration, logger: Logger,
        clock: @escaping @Sendable () -> Timestamp = Logbook.systemClock
    ) {
        self.logbook = logbook
        self.leaseMicroseconds = leaseMicroseconds
        self.stallMicroseconds = stallMicroseconds
        self.interval = interval
        self.logger = logger
        self.clock = clock
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            if Task.isShuttingDownGracefully || Task.isCancelled { return }
            _ = await reapOnce()
            // A reader process killed mid-read (a CLI command, say) leaves a slot that pins old pages.
            if let cleared = try? logbook.maintenance.clearStaleReaders(), cleared > 0 {
                logger.notice("cleared reader slots left by dead processes", metadata: ["count": "\(cleared)"])
            }
        }
    }

    /// One pass: returns the jobs it interrupted.
    @discardableResult
    public func reapOnce(now: Timestamp? = nil) async -> [String] {
        let now = now ?? clock()
        let silent = logbook.jobs(JobQuery(silentFor: leaseMicroseconds, now: now))
        var reaped = await reap(silent, reason: "leaseExpired")
        if let stallMicroseconds {
            let silentJobs = Set(silent.map { ExactID($0.job) })
            let stalled = logbook.jobs(JobQuery(stalledFor: stallMicroseconds, now: now))
                .filter { !silentJobs.contains(ExactID($0.job)) }
            reaped += await reap(stalled, reason: "stalled")
        }
        return reaped
    }

    /// Interrupts each job as it was read in `states`; a job whose version moved on is left alone.
    func reap(_ states: [JobState], reason: String) async -> [String] {
        var reaped: [String] = []
        for state in states {
            let event = Event(
                job: state.job, type: .interrupted, reason: reason, attempt: state.attempt > 0 ? state.attempt : nil)
            let refusal: JournalError?
            do {
                _ = try await logbook.append(event, expectedVersion: state.version)
                refusal = nil
            } catch {
                refusal = error
            }
            guard let refusal else {
                reaped.append(state.job)
                logger.notice(
                    reason == "stalled" ? "reaped job: interrupted after it made no progress for the stall timeout"
                        : "reaped job: interrupted after its lease expired",
                    metadata: ["job": "\(state.job)", "attempt": "\(state.attempt)", "node": "\(state.node ?? "-")",
                               "lastSignOfLife": "\(state.lastSignOfLife?.rfc3339 ?? "-")"])
                continue
            }
            if case .versionConflict = refusal {
                logger.info("left job alone: it moved on since it was read", metadata: ["job": "\(state.job)"])
            } else {
                logger.error("reaper could not interrupt job", metadata: ["job": "\(state.job)", "error": "\(refusal)"])
            }
        }
        return reaped
    }
}
