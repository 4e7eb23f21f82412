import ArgumentParser
import Logbook
import LogbookPostgres

#if canImport(Glibc)
import Glibc
#endif

/// Options every command shares.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: "The journal file (default: $LOGBOOK_JOURNAL, else ./logbook.journal).")
    var journal: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "A shared PostgreSQL journal (default: $LOGBOOK_POSTGRES_URL); --journal is then this node's replica.",
            discussion: "postgresql://user[:password]@host[:port]/database[?sslmode=require], or ?host=/socket/dir for a unix socket. "
                + "Writing commands write through PostgreSQL; reading commands catch the replica up first.",
            valueName: "url"))
    var postgres: String?

    @Option(
        name: .customLong("postgres-retry"),
        help: ArgumentHelp(
            "How long an append is retried, with the same event ids, while PostgreSQL does not answer (default: $LOGBOOK_POSTGRES_RETRY, else 15s).",
            discussion: "Make it longer than the cluster's failover takes (docs/scale-out.md, High availability).",
            valueName: "duration"))
    var postgresRetry: DurationArgument?

    /// `--postgres-retry`, else `LOGBOOK_POSTGRES_RETRY`, else nil (the default window).
    func postgresRetryWindow() throws -> Duration? {
        if let postgresRetry { return .microseconds(postgresRetry.microseconds) }
        guard let env = getenv("LOGBOOK_POSTGRES_RETRY"), let text = String(validatingCString: env), !text.isEmpty else { return nil }
        return .microseconds(try parseDuration(text, option: "LOGBOOK_POSTGRES_RETRY"))
    }

    /// The shared log's URL, from `--postgres` or `LOGBOOK_POSTGRES_URL`.
    var postgresURL: String? {
        if let postgres { return postgres }
        if let env = getenv("LOGBOOK_POSTGRES_URL"), let url = String(validatingCString: env), !url.isEmpty { return url }
        return nil
    }

    /// How long a command waits for the replica to catch up with the shared log before giving up.
    static let catchUpLimit: Duration = .seconds(60)

    var journalPath: String {
        if let journal { return journal }
        if let env = getenv("LOGBOOK_JOURNAL"), let path = String(validatingCString: env), !path.isEmpty { return path }
        return "logbook.journal"
    }

    /// Opens the journal for reading: it must exist; works beside a writing process. With a shared
    /// log, the replica is caught up first (created when missing).
    func openForReading() async throws -> Logbook {
        try await catchUpReplica()
        var options = Logbook.Options()
        options.readOnly = true
        options.foreignAppendPollInterval = nil
        return try Logbook.open(at: journalPath, options: options)
    }

    /// Opens the journal for writing; only commands that add events (`ingest`, `append`, `serve`)
    /// create a missing one, so maintenance on a mistyped path fails instead of making an empty journal.
    func openForWriting(snapshotEvery: Int? = 100_000, create: Bool) throws -> Logbook {
        try Logbook.open(at: journalPath, options: writingOptions(snapshotEvery: snapshotEvery, create: create))
    }

    private func writingOptions(snapshotEvery: Int?, create: Bool) -> Logbook.Options {
        var options = Logbook.Options()
        options.snapshotEvery = snapshotEvery
        options.create = create
        options.foreignAppendPollInterval = nil  // a short-lived command folds what it needs at open
        return options
    }
}

extension GlobalOptions {
    /// Runs `body` with the journal open for appending: through the shared log, caught up first,
    /// when there is one (`--postgres`); else the local journal, created when missing if `create`.
    func withWriter<T>(create: Bool, _ body: (Logbook) async throws -> T) async throws -> T {
        let log = try postgresURL.map { try PostgresLog(url: $0) }
        var options = writingOptions(snapshotEvery: nil, create: create || log != nil)  // a node's replica starts empty
        options.sharedLog = log
        if let window = try postgresRetryWindow() { options.sharedLogRetryWindow = window }
        let logbook: Logbook
        do {
            logbook = try Logbook.open(at: journalPath, options: options)
        } catch {
            await log?.shutdown()
            throw error
        }
        do {
            if log != nil { try await logbook.catchUp(within: Self.catchUpLimit) }
            let result = try await body(logbook)
            logbook.close()
            await log?.shutdown()
            return result
        } catch {
            logbook.close()
            await log?.shutdown()
            throw error
        }
    }

    /// With a shared log: applies to the replica everything the log holds (what a reading command
    /// does first). Without one: nothing.
    func catchUpReplica() async throws {
        guard postgresURL != nil else { return }
        try await withWriter(create: true) { _ in }
    }

    /// Refuses a command that works on a local journal only.
    func refuseSharedLog(_ command: String, _ why: String) throws {
        if postgresURL != nil { throw ValidationError("--postgres: \(command) \(why)") }
    }
}
