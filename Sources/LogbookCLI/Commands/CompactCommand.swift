import ArgumentParser
import Lifecycle
import Logbook

struct CompactCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compact",
        abstract: "Rewrite the journal compactly (and optionally drop superseded heartbeats), then swap it in atomically.",
        discussion: """
            Needs the journal to itself: refuses while another process (a service, a reader) has it open. \
            --drop-superseded-heartbeats drops every applied heartbeat followed by a later applied \
            heartbeat in the same attempt of the same job. Nothing is renumbered: seqs, versions, \
            decidedBy and anomaly seqs stay valid, and every job's state is identical before and after; \
            only time travel into the dropped range can differ. A fresh snapshot is written.

            Example:
              logbook compact --drop-superseded-heartbeats --dry-run
              logbook compact --drop-superseded-heartbeats
            """
    )

    @OptionGroup var global: GlobalOptions
    @Flag(name: .customLong("drop-superseded-heartbeats"), help: "Drop heartbeats a later heartbeat of the same attempt supersedes.")
    var dropSupersededHeartbeats = false
    @Flag(name: .customLong("dry-run"), help: "Print what would be dropped and the expected size; change nothing.")
    var dryRun = false
    @Flag(help: "Print one JSON object: dryRun, dropped, bytesBefore, bytesAfter, byJob [{job, dropped}].") var json = false
    @Option(help: "On a dry run, list at most this many jobs (those losing most first; 0: all).") var top = 20

    func validate() throws {
        if top < 0 { throw ValidationError("--top must be an integer >= 0") }
    }

    func run() async throws {
        let report = try Logbook.Maintenance.compact(
            at: global.journalPath, dropSupersededHeartbeats: dropSupersededHeartbeats, dryRun: dryRun)
        let sizes = "\(ByteCount.format(report.bytesBefore)) -> \(ByteCount.format(report.bytesAfter))"
        if json {
            let byJob = report.droppedByJob.map { JSONText.object([("job", JSONText.quoted($0.job)), ("dropped", String($0.records))]) }
            Terminal.line(JSONText.object([
                ("dryRun", dryRun ? "true" : "false"), ("dropped", String(report.dropped)),
                ("bytesBefore", String(report.bytesBefore)), ("bytesAfter", String(report.bytesAfter)),
                ("byJob", "[" + byJob.joined(separator: ",") + "]"),
            ]))
        } else if dryRun {
            Terminal.line("dry run: would drop \(report.dropped) superseded heartbeats; size \(sizes) (nothing changed)")
            guard !report.droppedByJob.isEmpty else { return }
            let shown = top > 0 ? Array(report.droppedByJob.prefix(top)) : report.droppedByJob
            var table = Table(["JOB", "HEARTBEATS DROPPED"])
            for (job, n) in shown { table.add([job, String(n)]) }
            Terminal.write(table.render(width: Terminal.tableWidth))
            if shown.count < report.droppedByJob.count {
                Terminal.line("… and \(report.droppedByJob.count - shown.count) more jobs (--top 0 lists all)")
            }
        } else {
            Terminal.line("compacted: dropped \(report.dropped) superseded heartbeats; size \(sizes)")
        }
    }
}
