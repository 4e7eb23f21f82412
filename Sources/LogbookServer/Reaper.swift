import Logbook
import Logging
import ServiceLifecycle

/// Interrupts running jobs whose current attempt has been silent for longer than the lease.
///
/// It appends `interrupted` (reason `leaseExpired`) with the version it read, so a job that
/// heartbeated in between is left alone: the append is refused as a version conflict rather than
/// applied over fresher news (the HA runner's requeue race).
public struct Reaper: Service {
    let logbook: Logbook
    let leaseMicroseconds: Int64
    let interval: Duration
    let clock: @Sendable () -> Timestamp
    let logger: Logger

    public init(
        logbook: Logbook, leaseMicroseconds: Int64, interval: Duration, logger: Logger,
        clock: @escaping @Sendable () -> Timestamp = Journal.systemClock
    ) {
        self.logbook = logbook
        self.leaseMicroseconds = leaseMicroseconds
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
            if let cleared = try? logbook.journal.clearStaleReaders(), cleared > 0 {
                logger.notice("cleared reader slots left by dead processes", metadata: ["count": "\(cleared)"])
            }
        }
    }

    /// One pass: returns the jobs it interrupted.
    @discardableResult
    public func reapOnce(now: Timestamp? = nil) async -> [String] {
        await reap(logbook.jobs(JobQuery(silentFor: leaseMicroseconds, now: now ?? clock())))
    }

    /// Interrupts each job as it was read in `states`; a job whose version moved on is left alone.
    func reap(_ states: [JobState]) async -> [String] {
        var reaped: [String] = []
        for state in states {
            let event = Event(
                job: state.job, type: .interrupted, reason: "leaseExpired", attempt: state.attempt > 0 ? state.attempt : nil)
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
                    "reaped job: interrupted after its lease expired",
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
