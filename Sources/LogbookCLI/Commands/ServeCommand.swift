import ArgumentParser
import Logbook
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
            Every flag can also come from the environment: LOGBOOK_HOST, LOGBOOK_PORT, LOGBOOK_LEASE, \
            LOGBOOK_INTERRUPT_RUNNING_ON_SHUTDOWN, LOGBOOK_MAX_BODY_BYTES (a flag wins). SIGTERM or \
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
    @Option(name: .customLong("interrupt-running-on-shutdown"), help: "At shutdown, interrupt this node's running jobs.")
    var interruptRunningOnShutdown: String?
    @Option(name: .customLong("max-body-bytes"), help: "Largest request body accepted (default 1048576).")
    var maxBodyBytes: Int?

    private static func env(_ name: String) -> String? {
        guard let value = getenv(name) else { return nil }
        let text = String(cString: value)
        return text.isEmpty ? nil : text
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
        c.interruptRunningOnShutdown = interruptRunningOnShutdown ?? Self.env("LOGBOOK_INTERRUPT_RUNNING_ON_SHUTDOWN")
        if let text = maxBodyBytes.map(String.init) ?? Self.env("LOGBOOK_MAX_BODY_BYTES") {
            guard let n = Int(text), n > 0 else { throw ValidationError("max-body-bytes: not a positive integer: \(text)") }
            c.maxBodyBytes = n
        }
        return c
    }

    func run() async throws {
        let config = try configuration()
        var logger = Logger(label: "logbook")
        logger.logLevel = .info
        try await LogbookServer.run(journalPath: global.journalPath, configuration: config, logger: logger)
    }
}
