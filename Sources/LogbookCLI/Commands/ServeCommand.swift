import Foundation
import ArgumentParser
import Logbook
import LogbookPostgres
import LogbookServer
import Logging

#if canImport(Glibc)
import Glibc
#endif

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the journal over HTTP: append, query, live tail, metrics, with a lease reaper.",
        discussion: """
            Every flag can also come from the environment: LOGBOOK_HOST, LOGBOOK_PORT, LOGBOOK_LEASE, LOGBOOK_STALL_TIMEOUT, \
            LOGBOOK_INTERRUPT_RUNNING_ON_SHUTDOWN, LOGBOOK_MAX_BODY_BYTES, LOGBOOK_TOKEN_FILE (a flag wins). \
            With a token file, every endpoint but /healthz needs Authorization: Bearer <token>; a host other \
            than loopback needs a token or --allow-unauthenticated. SIGTERM or \
            SIGINT shuts down gracefully: in-flight appends finish, a snapshot is written, the journal \
            closes. Endpoints: docs/service.md.

            Example:
              logbook --journal jobs.journal serve --port 8080 --lease 90s
              curl -X POST localhost:8080/jobs/j/events -d '{"type":"started"}'
            """
    )

    @OptionGroup var global: GlobalOptions
    @Option(help: "Address to listen on (default 127.0.0.1).") var host: String?
    @Option(help: "Port to listen on (default 8080).") var port: Int?
    @Option(help: "Interrupt running jobs silent for longer than this (default 90s).") var lease: DurationArgument?
    @Option(
        name: .customLong("stall-timeout"),
        help: "Also interrupt running jobs that made no progress for longer than this, heartbeat or not (default: off).")
    var stallTimeout: DurationArgument?
    @Option(
        name: .customLong("drop-superseded-heartbeats-every"),
        help: "Drop superseded heartbeats in place this often, beside the appends (e.g. 1h; default: never).")
    var dropSupersededHeartbeatsEvery: DurationArgument?
    @Option(
        name: .customLong("archive-every"),
        help: "Archive finished jobs in place this often, beside the appends (e.g. 1d; needs --archive-after and --archive-to).")
    var archiveEvery: DurationArgument?
    @Option(
        name: .customLong("archive-after"),
        help: "With --archive-every: archive jobs terminal, finalized and quiet for longer than this (e.g. 90d).")
    var archiveAfter: DurationArgument?
    @Option(
        name: .customLong("archive-to"),
        help: "With --archive-every: the directory (it must exist) that gets one dated bundle per run that moves jobs.")
    var archiveTo: String?
    @Option(name: .customLong("interrupt-running-on-shutdown"), help: "At shutdown, interrupt this node's running jobs.")
    var interruptRunningOnShutdown: String?
    @Option(name: .customLong("max-body-bytes"), help: "Largest request body accepted (default 1048576).")
    var maxBodyBytes: Int?
    @Option(name: .customLong("token-file"), help: "A file holding the bearer token every endpoint but /healthz requires.")
    var tokenFile: String?
    @Flag(name: .customLong("allow-unauthenticated"), help: "Serve on a non-loopback address without a token.")
    var allowUnauthenticated = false

    private static func env(_ name: String) -> String? {
        guard let value = getenv(name) else { return nil }
        let text = String(cString: value)
        return text.isEmpty ? nil : text
    }

    /// `--archive-every`, `--archive-after`, `--archive-to` (or their LOGBOOK_ variables): all three or none.
    private func configureArchive(_ c: inout ServerConfiguration) throws {
        c.archiveEveryMicroseconds = try archiveEvery?.microseconds
            ?? Self.env("LOGBOOK_ARCHIVE_EVERY").map { try parseDuration($0, option: "LOGBOOK_ARCHIVE_EVERY") }
        c.archiveAfterMicroseconds = try archiveAfter?.microseconds
            ?? Self.env("LOGBOOK_ARCHIVE_AFTER").map { try parseDuration($0, option: "LOGBOOK_ARCHIVE_AFTER") }
        c.archiveDirectory = archiveTo ?? Self.env("LOGBOOK_ARCHIVE_TO")
        let given = [c.archiveEveryMicroseconds != nil, c.archiveAfterMicroseconds != nil, c.archiveDirectory != nil]
        guard given.contains(true) else { return }
        guard !given.contains(false) else {
            throw ValidationError("--archive-every, --archive-after and --archive-to go together: give all three")
        }
        if let every = c.archiveEveryMicroseconds, every < 1_000_000 { throw ValidationError("--archive-every: at least 1s") }
        if let after = c.archiveAfterMicroseconds, after < 0 { throw ValidationError("--archive-after: not a negative duration") }
        var isDirectory: ObjCBool = false
        guard let dir = c.archiveDirectory, FileManager.default.fileExists(atPath: dir, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ValidationError("--archive-to: \(c.archiveDirectory ?? "") is not a directory (create it first)")
        }
        if global.postgresURL != nil {
            throw ValidationError(
                "--archive-every is refused with --postgres: a replica only applies the shared log's records, and "
                    + "removing events from the shared log is not built yet")
        }
    }

    func configuration() throws -> ServerConfiguration {
        var c = ServerConfiguration()
        c.host = host ?? Self.env("LOGBOOK_HOST") ?? c.host
        if let text = port.map(String.init) ?? Self.env("LOGBOOK_PORT") {
            guard let p = Int(text), (0...65535).contains(p) else { throw ValidationError("port: not a port number: \(text)") }
            c.port = p
        }
        if let lease {
            c.leaseMicroseconds = lease.microseconds
        } else if let text = Self.env("LOGBOOK_LEASE") {
            c.leaseMicroseconds = try parseDuration(text, option: "LOGBOOK_LEASE")
        }
        if let stallTimeout {
            c.stallMicroseconds = stallTimeout.microseconds
        } else if let text = Self.env("LOGBOOK_STALL_TIMEOUT") {
            c.stallMicroseconds = try parseDuration(text, option: "LOGBOOK_STALL_TIMEOUT")
        }
        if let every = dropSupersededHeartbeatsEvery {
            c.dropSupersededHeartbeatsEveryMicroseconds = every.microseconds
        } else if let text = Self.env("LOGBOOK_DROP_SUPERSEDED_HEARTBEATS_EVERY") {
            c.dropSupersededHeartbeatsEveryMicroseconds = try parseDuration(text, option: "LOGBOOK_DROP_SUPERSEDED_HEARTBEATS_EVERY")
        }
        if let every = c.dropSupersededHeartbeatsEveryMicroseconds, every < 1_000_000 {
            throw ValidationError("--drop-superseded-heartbeats-every: at least 1s")
        }
        if c.dropSupersededHeartbeatsEveryMicroseconds != nil, global.postgresURL != nil {
            throw ValidationError(
                "--drop-superseded-heartbeats-every is refused with --postgres: a replica only applies the shared log's "
                    + "records, and removing events from the shared log is not built yet")
        }
        try configureArchive(&c)
        c.interruptRunningOnShutdown = interruptRunningOnShutdown ?? Self.env("LOGBOOK_INTERRUPT_RUNNING_ON_SHUTDOWN")
        if let text = maxBodyBytes.map(String.init) ?? Self.env("LOGBOOK_MAX_BODY_BYTES") {
            guard let n = Int(text), n > 0 else { throw ValidationError("max-body-bytes: not a positive integer: \(text)") }
            c.maxBodyBytes = n
        }
        if let path = tokenFile ?? Self.env("LOGBOOK_TOKEN_FILE") {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw ValidationError("--token-file: cannot read \(path)")
            }
            guard let text = String(data: data, encoding: .utf8) else { throw ValidationError("--token-file: \(path) is not UTF-8") }
            let token = text.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !token.isEmpty, !token.contains(where: \.isWhitespace) else {
                throw ValidationError("--token-file: \(path) must hold one token without spaces")
            }
            c.bearerToken = token
        }
        if c.bearerToken == nil, !allowUnauthenticated, !ServeCommand.isLoopback(c.host) {
            throw ValidationError(
                "--host \(c.host) is reachable from other machines: give --token-file (or LOGBOOK_TOKEN_FILE), "
                    + "or --allow-unauthenticated to serve without one")
        }
        return c
    }

    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host == "[::1]" || host.hasPrefix("127.")
    }

    func run() async throws {
        let config = try configuration()
        var logger = Logger(label: "logbook")
        logger.logLevel = .info
        var configuration = config
        configuration.sharedLogRetryWindow = try global.postgresRetryWindow()
        let log = try global.postgresURL.map { try PostgresLog(url: $0) }
        configuration.sharedLog = log
        do {
            try await LogbookServer.run(journalPath: global.journalPath, configuration: configuration, logger: logger)
        } catch {
            await log?.shutdown()
            throw error
        }
        await log?.shutdown()
    }
}
