import ArgumentParser
import Lifecycle
import Logbook

/// `backup`, `salvage` and `archive`: keeping a journal healthy for years (docs/operations.md).

/// A new file's name must name a file: not empty, not a directory (`dir/`).
private func requireFileName(_ path: String, _ what: String) throws {
    if path.isEmpty || path.hasSuffix("/") { throw ValidationError("\(what) must name a new file, not \(path.isEmpty ? "nothing" : "a directory")") }
}

struct BackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Write a consistent, compacted, verified copy of the journal to DEST while it stays in use.",
        discussion: """
            A hot copy: LMDB copies the journal as of one commit under one read transaction, while a \
            service or other writers go on appending. The copy is verified (every CRC, the index, the \
            snapshot against a full replay) before it appears under DEST, and it is a journal in its \
            own right: point --journal at it. DEST must not exist. A kill leaves no DEST or the \
            complete one, and never changes the journal.

            Example:
              logbook backup /backups/jobs-$(date +%F).journal
            """
    )

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Where to write the copy (a new file).") var destination: String
    @Flag(help: "Print one JSON object: path, bytes, lastSeq, records, jobs, snapshotSeq.") var json = false

    func validate() throws { try requireFileName(destination, "DEST") }

    func run() async throws {
        let report = try Logbook.Maintenance.backup(at: global.journalPath, to: destination)
        let v = report.verified
        if json {
            Terminal.line(JSONText.object([
                ("path", JSONText.quoted(report.path)), ("bytes", String(report.bytes)), ("lastSeq", String(v.lastSeq)),
                ("records", String(v.records)), ("jobs", String(v.jobs)),
                ("snapshotSeq", v.snapshotSeq.map { String($0) } ?? "null"),
            ]))
        } else {
            Terminal.line(
                "backed up through seq \(v.lastSeq) (\(v.records) records, \(v.jobs) jobs) to \(report.path.printable): "
                    + "\(ByteCount.format(report.bytes)), verified sound")
        }
    }
}

struct SalvageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "salvage",
        abstract: "Copy every record that passes its checks into a new journal, and list each lost seq with its job.",
        discussion: """
            For a journal that `verify` finds damaged. Records keep their seq, version and bytes; the \
            per-job index is rebuilt from the records kept, a fresh snapshot is written, and the new \
            journal is verified before it appears under --to. A record is lost when its CRC or format \
            fails, it breaks the event rules, or it cannot be read; each lost seq is listed with the \
            job the old index (or the damaged record) names. The damaged journal is only read. \
            Exit 0 when the new journal was written, whatever was lost (--json says what).

            Example:
              logbook salvage --to jobs.salvaged.journal
              logbook --journal jobs.salvaged.journal explain scan-3
            """
    )

    @OptionGroup var global: GlobalOptions
    @Option(name: .customLong("to"), help: "The new journal (a new file).") var destination: String
    @Flag(help: "Print one JSON object: path, bytes, kept, lastSeq, lost [{seq, job, reason}], unreadable.")
    var json = false

    func validate() throws { try requireFileName(destination, "--to") }

    func run() async throws {
        let report = try await Logbook.Maintenance.salvage(at: global.journalPath, to: destination)
        let copy = report.copy
        if json {
            let lost = copy.lost.map { l in
                JSONText.object([
                    ("seq", String(l.seq)), ("job", l.job.map(JSONText.quoted) ?? "null"), ("reason", JSONText.quoted(l.reason)),
                ])
            }
            Terminal.line(JSONText.object([
                ("path", JSONText.quoted(report.path)), ("bytes", String(report.bytes)), ("kept", String(copy.kept)),
                ("lastSeq", String(copy.lastSeq)), ("lost", "[" + lost.joined(separator: ",") + "]"),
                ("unreadable", copy.unreadable.map(JSONText.quoted) ?? "null"),
            ]))
            return
        }
        Terminal.line(
            "salvaged \(copy.kept) records into \(report.path.printable) (\(ByteCount.format(report.bytes))): "
                + "seqs and versions kept, \(report.verified.jobs) jobs, verified sound")
        if let unreadable = copy.unreadable { Terminal.line("could not read \(unreadable.printable)") }
        guard !copy.lost.isEmpty else {
            Terminal.line("lost nothing")
            return
        }
        Terminal.line("lost \(copy.lost.count) record\(copy.lost.count == 1 ? "" : "s"):")
        var table = Table(["SEQ", "JOB", "WHY"])
        for l in copy.lost { table.add([String(l.seq), l.job ?? "unknown", l.reason]) }
        Terminal.write(table.render(width: Terminal.tableWidth))
        let jobs = Set(copy.lost.compactMap(\.job)).count
        Terminal.line(
            "\(jobs) job\(jobs == 1 ? "" : "s") lost events: their state in the new journal lacks them "
                + "(check each with `logbook --journal \(report.path.printable) explain JOB`)")
    }
}

struct ArchiveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "archive",
        abstract: "Move finished jobs quiet since before a time into an incident bundle, and out of the journal.",
        discussion: """
            Retention. Every job that is terminal, finalized and has no event stamped at or after \
            --finalized-before moves into BUNDLE (the export format: JSON Lines that `ingest` accepts \
            elsewhere) and out of the journal, in one crash-safe rewrite. Needs the journal to itself, \
            like `compact`. The remaining jobs keep every seq, version and state byte for byte. The \
            bundle is written and fsynced before the journal is rewritten: a kill leaves the journal \
            as it was, or the journal without those jobs and the complete bundle. BUNDLE must not \
            exist; when no job qualifies nothing is written.

            Example:
              logbook archive --finalized-before 90d-ago --to archive-$(date +%F).jsonl --dry-run
              logbook archive --finalized-before 90d-ago --to archive-$(date +%F).jsonl
            """
    )

    @OptionGroup var global: GlobalOptions
    @Option(name: .customLong("finalized-before"), help: "Move jobs with no event at or after this time (RFC 3339 or e.g. 90d-ago).")
    var finalizedBefore: TimeArgument
    @Option(name: .customLong("to"), help: "The bundle to write (a new file).") var bundle: String
    @Flag(name: .customLong("dry-run"), help: "Say what would move and the journal's expected size; change nothing.")
    var dryRun = false
    @Flag(help: "Print one JSON object: dryRun, jobs [ids], events, bundle, bundleBytes, bytesBefore, bytesAfter.")
    var json = false

    func validate() throws { try requireFileName(bundle, "--to") }

    func run() async throws {
        let cutoff = finalizedBefore.timestamp
        let report = try Logbook.Maintenance.archive(at: global.journalPath, finalizedBefore: cutoff, to: bundle, dryRun: dryRun)
        let wrote = !dryRun && !report.jobs.isEmpty
        if json {
            Terminal.line(JSONText.object([
                ("dryRun", dryRun ? "true" : "false"), ("jobs", "[" + report.jobs.map(JSONText.quoted).joined(separator: ",") + "]"),
                ("events", String(report.events)), ("bundle", wrote ? JSONText.quoted(bundle) : "null"),
                ("bundleBytes", String(report.bundleBytes)), ("bytesBefore", String(report.bytesBefore)),
                ("bytesAfter", String(report.bytesAfter)),
            ]))
            return
        }
        guard !report.jobs.isEmpty else {
            Terminal.line(
                "nothing to archive: no job is terminal, finalized and without events since \(cutoff.rfc3339) (nothing changed)")
            return
        }
        let what = "\(report.jobs.count) job\(report.jobs.count == 1 ? "" : "s") (\(report.events) events)"
        let sizes = "journal \(ByteCount.format(report.bytesBefore)) -> \(ByteCount.format(report.bytesAfter))"
        if dryRun {
            Terminal.line("dry run: would move \(what) to \(bundle.printable); \(sizes) (nothing changed)")
        } else {
            Terminal.line("archived \(what) to \(bundle.printable) (\(ByteCount.format(report.bundleBytes))); \(sizes)")
        }
        let shown = report.jobs.prefix(10)
        Terminal.line("  " + shown.map(\.printable).joined(separator: ", ")
            + (report.jobs.count > shown.count ? ", and \(report.jobs.count - shown.count) more (--json lists all)" : ""))
    }
}
