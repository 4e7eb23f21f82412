import ArgumentParser
import Lifecycle
import Logbook

/// `backup`, `salvage` and `archive`: keeping a journal healthy for years (docs/operations.md).

/// `--step` of the in-place removals (archive, compact --drop-superseded-heartbeats).
func validateStep(_ step: Int) throws {
    if !(1...100_000).contains(step) { throw ValidationError("--step must be an integer from 1 to 100000 (records per write transaction)") }
}

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
            elsewhere) and out of the journal, in place, while a `serve`, an embedding process or CLI \
            appends go on: the bundle is written and fsynced first, then the jobs are removed whole, \
            in short write transactions that take turns with appends. A job that gains an event \
            meanwhile stays (and is left out of the bundle). The remaining jobs keep every seq, \
            version and state; an archived job's id is free again (its next event starts a new job). \
            A kill leaves each job in the journal or in the bundle; the next archive finishes the \
            killed one into its bundle first. BUNDLE must not exist; when no job qualifies nothing \
            is written. The file keeps its size (later appends reuse the freed pages); `compact` \
            shrinks it, offline.

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
    @Flag(
        help: """
            Print one JSON object: dryRun, jobs [ids], events, bundle, bundleBytes, bytesBefore, bytesAfter, steps, \
            kept [ids], finished ({bundle, jobs} or null).
            """)
    var json = false
    @Option(help: "Records removed per write transaction (1-100000; a job is never split); smaller steps keep appends' waits shorter.")
    var step = 1_000

    func validate() throws {
        try requireFileName(bundle, "--to")
        try validateStep(step)
    }

    func run() async throws {
        let cutoff = finalizedBefore.timestamp
        let report = try await Logbook.Maintenance.archive(
            at: global.journalPath, finalizedBefore: cutoff, to: bundle, dryRun: dryRun, step: step)
        let wrote = !dryRun && !report.jobs.isEmpty
        if json {
            let ids = { (jobs: [String]) in "[" + jobs.map(JSONText.quoted).joined(separator: ",") + "]" }
            Terminal.line(JSONText.object([
                ("dryRun", dryRun ? "true" : "false"), ("jobs", ids(report.jobs)),
                ("events", String(report.events)), ("bundle", wrote ? JSONText.quoted(bundle) : "null"),
                ("bundleBytes", String(report.bundleBytes)), ("bytesBefore", String(report.bytesBefore)),
                ("bytesAfter", String(report.bytesAfter)), ("steps", String(report.steps)), ("kept", ids(report.kept)),
                ("finished", report.finished.map {
                    JSONText.object([("bundle", JSONText.quoted($0.bundle)), ("jobs", String($0.jobs))])
                } ?? "null"),
            ]))
            return
        }
        if let finished = report.finished {
            Terminal.line(
                dryRun
                    ? "an archive into \(finished.bundle.printable) was interrupted; the next archive finishes it first "
                        + "(\(finished.jobs) jobs planned)"
                    : "finished an interrupted archive into \(finished.bundle.printable): \(finished.jobs) more jobs removed")
        }
        guard !report.jobs.isEmpty else {
            if report.finished?.bundle != bundle {
                Terminal.line(
                    "nothing to archive: no job is terminal, finalized and without events since \(cutoff.rfc3339) (nothing changed)")
            }
            return
        }
        let what = "\(report.jobs.count) job\(report.jobs.count == 1 ? "" : "s") (\(report.events) events)"
        if dryRun {
            Terminal.line("dry run: would move \(what) to \(bundle.printable) (nothing changed)")
        } else {
            Terminal.line(
                "archived \(what) to \(bundle.printable) (\(ByteCount.format(report.bundleBytes))) in \(report.steps) "
                    + "step\(report.steps == 1 ? "" : "s"); journal file \(ByteCount.format(report.bytesAfter)) "
                    + "(freed pages are reused; `compact` shrinks it)")
        }
        let shown = report.jobs.prefix(10)
        Terminal.line("  " + shown.map(\.printable).joined(separator: ", ")
            + (report.jobs.count > shown.count ? ", and \(report.jobs.count - shown.count) more (--json lists all)" : ""))
        if !report.kept.isEmpty {
            Terminal.line(
                "kept \(report.kept.count) job\(report.kept.count == 1 ? "" : "s") that gained an event meanwhile "
                    + "(left out of the bundle): " + report.kept.prefix(10).map(\.printable).joined(separator: ", "))
        }
    }
}
