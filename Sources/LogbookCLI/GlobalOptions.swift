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
        return try Logbook.open(at: journalPath, options: options)
    }

    /// Opens (creating) the journal for writing.
    func openForWriting(snapshotEvery: Int? = 100_000) throws -> Logbook {
        var options = Logbook.Options()
        options.snapshotEvery = snapshotEvery
        return try Logbook.open(at: journalPath, options: options)
    }
}
