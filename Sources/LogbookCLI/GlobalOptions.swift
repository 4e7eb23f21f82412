import ArgumentParser
import Logbook

#if canImport(Glibc)
import Glibc
#endif

/// Options every command shares.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: "The journal file (default: $LOGBOOK_JOURNAL, else ./logbook.journal).")
    var journal: String?

    var journalPath: String {
        if let journal { return journal }
        if let env = getenv("LOGBOOK_JOURNAL"), let path = String(validatingCString: env), !path.isEmpty { return path }
        return "logbook.journal"
    }

    /// Opens the journal for reading: it must exist; works beside a writing process.
    func openForReading() throws -> Logbook {
        var options = Logbook.Options()
        options.readOnly = true
        options.foreignAppendPollInterval = nil
        return try Logbook.open(at: journalPath, options: options)
    }

    /// Opens the journal for writing; only commands that add events (`ingest`, `append`, `serve`)
    /// create a missing one, so maintenance on a mistyped path fails instead of making an empty journal.
    func openForWriting(snapshotEvery: Int? = 100_000, create: Bool) throws -> Logbook {
        var options = Logbook.Options()
        options.snapshotEvery = snapshotEvery
        options.create = create
        options.foreignAppendPollInterval = nil  // a short-lived command folds what it needs at open
        return try Logbook.open(at: journalPath, options: options)
    }
}
