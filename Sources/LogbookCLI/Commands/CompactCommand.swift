import ArgumentParser
import Lifecycle
import Logbook

struct CompactCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compact",
        abstract: "Drop superseded heartbeats in place beside the writers, or rewrite the journal compactly offline.",
        discussion: """
            --drop-superseded-heartbeats drops every applied heartbeat followed by a later applied \
            heartbeat in the same attempt of the same job, in place, while a service or other writers \
            keep appending: in small write transactions that take turns with their appends (a kill \
            leaves each whole or absent; run it again to finish). Nothing is renumbered: seqs, versions, \
            decidedBy and anomaly seqs stay valid, and every job's state is identical before and after; \
            only time travel into the dropped range can differ. The file keeps its size (LMDB reuses the \
            freed pages).

            Without it, compact rewrites the journal compactly (giving freed pages back to the filesystem) \
            and swaps it in atomically, with a fresh snapshot. That needs the journal to itself: it refuses \
            while another process (a service, a reader) has it open.

            Example:
              logbook compact --drop-superseded-heartbeats --dry-run
              logbook compact --drop-superseded-heartbeats
              logbook compact                # offline: the journal to itself, the file shrinks
            """
    )

    @OptionGroup var global: GlobalOptions
    @Flag(name: .customLong("drop-superseded-heartbeats"), help: "Drop heartbeats a later heartbeat of the same attempt supersedes.")
    var dropSupersededHeartbeats = false
    @Flag(name: .customLong("dry-run"), help: "Print what would be dropped and the expected size; change nothing.")
    var dryRun = false
    @Flag(help: "Print one JSON object: dryRun, dropped, bytesBefore, bytesAfter, and with --drop-superseded-heartbeats steps and byJob [{job, dropped}].")
    var json = false
    @Option(help: "On a dry run, list at most this many jobs (those losing most first; 0: all).") var top = 20
    @Option(help: "With --drop-superseded-heartbeats: records removed per write transaction (1-100000); smaller steps keep appends' waits shorter.")
    var step = 1_000

    func validate() throws {
        if top < 0 { throw ValidationError("--top must be an integer >= 0") }
        try validateStep(step)
    }

    func run() async throws {
        if dropSupersededHeartbeats { return try await prune() }
        let report = try Logbook.Maintenance.compact(at: global.journalPath, dropSupersededHeartbeats: false, dryRun: dryRun)
        let sizes = "\(ByteCount.format(report.bytesBefore)) -> \(ByteCount.format(report.bytesAfter))"
        if json {
            let byJob = report.droppedByJob.map { JSONText.object([("job", JSONText.quoted($0.job)), ("dropped", String($0.records))]) }
            Terminal.line(JSONText.object([
                ("dryRun", dryRun ? "true" : "false"), ("dropped", String(report.dropped)),
                ("bytesBefore", String(report.bytesBefore)), ("bytesAfter", String(report.bytesAfter)),
                ("byJob", "[" + byJob.joined(separator: ",") + "]"),
            ]))
        } else if dryRun {
            Terminal.line("dry run: the rewrite would take the file from \(sizes) (nothing changed)")
        } else {
            Terminal.line("compacted: size \(sizes)")
        }
    }

    /// `--drop-superseded-heartbeats`: in place, beside the writers.
    func prune() async throws {
        let report = try await Logbook.Maintenance.dropSupersededHeartbeats(at: global.journalPath, step: step, dryRun: dryRun)
        if json {
            let byJob = report.droppedByJob.map { JSONText.object([("job", JSONText.quoted($0.job)), ("dropped", String($0.records))]) }
            Terminal.line(JSONText.object([
                ("dryRun", dryRun ? "true" : "false"), ("dropped", String(report.dropped)),
                ("bytesBefore", String(report.fileBytes)), ("bytesAfter", String(report.fileBytes)), ("steps", String(report.steps)),
                ("byJob", "[" + byJob.joined(separator: ",") + "]"),
            ]))
        } else if dryRun {
            Terminal.line("dry run: would drop \(report.dropped) superseded heartbeats in place (nothing changed)")
            guard !report.droppedByJob.isEmpty else { return }
            let shown = top > 0 ? Array(report.droppedByJob.prefix(top)) : report.droppedByJob
            var table = Table(["JOB", "HEARTBEATS DROPPED"])
            for (job, n) in shown { table.add([job, String(n)]) }
            Terminal.write(table.render(width: Terminal.tableWidth))
            if shown.count < report.droppedByJob.count {
                Terminal.line("… and \(report.droppedByJob.count - shown.count) more jobs (--top 0 lists all)")
            }
        } else {
            Terminal.line(
                "dropped \(report.dropped) superseded heartbeats in place (\(report.steps) steps, beside any writers); the file keeps "
                    + "its size, \(ByteCount.format(report.fileBytes)), and reuses the freed pages (`logbook compact` shrinks it offline)")
        }
    }
}
