import Hummingbird
import Logbook
import Logging
import ServiceLifecycle

/// `logbook serve`: the HTTP API, the reaper and an orderly shutdown, as one service group.
///
/// On SIGTERM/SIGINT: the HTTP server stops accepting and finishes in-flight requests (so every
/// acknowledged append is durable), the reaper stops, then the journal keeper optionally interrupts
/// this node's running jobs, writes a snapshot and closes the journal.
public enum LogbookServer {
    public static func run(journalPath: String, configuration: ServerConfiguration, logger: Logger) async throws {
        if configuration.port != 0 { try PortProbe.check(host: configuration.host, port: configuration.port) }
        var options = Logbook.Options()
        options.sharedLog = configuration.sharedLog
        if let window = configuration.sharedLogRetryWindow { options.sharedLogRetryWindow = window }
        let logbook = try Logbook.open(at: journalPath, options: options)
        do {
            try logbook.maintenance.claimService()
        } catch {
            logbook.close()
            throw error
        }
        logger.info(
            "journal open",
            metadata: ["path": "\(journalPath)", "snapshotSeq": "\(logbook.openReport.snapshotSeq.map(String.init) ?? "none")",
                       "eventsFolded": "\(logbook.openReport.eventsFolded)",
                       "ms": "\(Int(logbook.openReport.milliseconds))",
                       "sharedLog": "\(configuration.sharedLog?.name ?? "none")"])
        let metrics = ServerMetrics()
        metrics.observe(logbook)
        var retention: (service: Retention, status: RetentionStatus)?
        let archive = configuration.archiveEveryMicroseconds.flatMap { every in
            configuration.archiveDirectory.map { dir in
                Retention.ArchiveSchedule(every: .microseconds(every), afterMicroseconds: configuration.archiveAfterMicroseconds ?? 0, directory: dir)
            }
        }
        let drop = configuration.dropSupersededHeartbeatsEveryMicroseconds.map { Duration.microseconds($0) }
        if drop != nil || archive != nil {
            let status = RetentionStatus(drops: drop != nil, archives: archive != nil)
            retention = (
                Retention(logbook: logbook, interval: drop, archive: archive, status: status, metrics: metrics, logger: logger), status
            )
        }
        let app = buildApplication(
            configuration: configuration, logbook: logbook, metrics: metrics, logger: logger, retention: retention?.status)
        let reaper = Reaper(
            logbook: logbook, leaseMicroseconds: configuration.leaseMicroseconds,
            stallMicroseconds: configuration.stallMicroseconds, interval: configuration.reapInterval,
            logger: logger)
        let keeper = JournalKeeper(logbook: logbook, interruptNode: configuration.interruptRunningOnShutdown, logger: logger)
        // Services shut down in reverse order: the HTTP server first, the journal keeper last.
        let group = ServiceGroup(
            configuration: .init(services: [.init(service: keeper), .init(service: reaper)]
                                     + (retention.map { [.init(service: $0.service)] } ?? []) + [.init(service: app)],
                                 gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}

/// Owns the journal's end of life: waits for graceful shutdown, then interrupts this node's running
/// jobs (when asked), writes a snapshot and closes the journal.
struct JournalKeeper: Service {
    let logbook: Logbook
    let interruptNode: String?
    let logger: Logger

    func run() async throws {
        try? await gracefulShutdown()
        if let node = interruptNode {
            for state in logbook.jobs(JobQuery(statuses: [.running], node: node)) {
                let event = Event(
                    job: state.job, type: .interrupted, node: node, reason: "shutdown",
                    attempt: state.attempt > 0 ? state.attempt : nil)
                do {
                    _ = try await logbook.append(event, expectedVersion: state.version)
                    logger.notice("interrupted running job at shutdown", metadata: ["job": "\(state.job)"])
                } catch {
                    logger.info("left job alone at shutdown", metadata: ["job": "\(state.job)", "reason": "\(error)"])
                }
            }
        }
        do {
            let seq = try await logbook.snapshot()
            logger.info("snapshot written at shutdown", metadata: ["seq": "\(seq)"])
        } catch {
            logger.error("snapshot at shutdown failed", metadata: ["error": "\(error)"])
        }
        logbook.close()
        logger.info("journal closed")
    }
}
