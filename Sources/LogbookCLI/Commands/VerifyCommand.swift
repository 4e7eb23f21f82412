import ArgumentParser
import Lifecycle
import Logbook

struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check every record's CRC, the per-job index against the log, and the snapshot against a full replay.",
        discussion: """
            Exit 0 when sound; otherwise non-zero with the first bad seq or job.

            Example:
              logbook verify
            """
    )

    @OptionGroup var global: GlobalOptions
    @Flag(help: "Print one JSON object: sound, records, jobs, snapshotSeq; or sound false and the problem (exit 1).")
    var json = false

    func run() async throws {
        let total = try Logbook.Maintenance.eventCount(at: global.journalPath)
        var bar = ProgressBar(total: total >= ProgressBar.eventThreshold ? total : 0, label: "verifying", unit: "records")
        let report: Logbook.Maintenance.VerifyReport
        do {
            report = try Logbook.Maintenance.verify(at: global.journalPath) { bar.update($0) }
        } catch {
            bar.finish()
            guard json else { throw error }
            Terminal.line(JSONText.object([("sound", "false"), ("problem", JSONText.quoted("\(error)"))]))
            throw ExitCode.failure
        }
        bar.finish()
        if json {
            Terminal.line(JSONText.object([
                ("sound", "true"), ("records", String(report.records)), ("jobs", String(report.jobs)),
                ("snapshotSeq", report.snapshotSeq.map { String($0) } ?? "null"), ("eventIDs", String(report.eventIDs)),
            ]))
            return
        }
        Terminal.line(
            "sound: \(report.records) records pass their CRC, the per-job index matches the log (\(report.jobs) jobs), "
                + (report.eventIDs > 0 ? "the event ids match their events (\(report.eventIDs)), " : "")
                + (report.snapshotSeq.map { "the snapshot at seq \($0) equals a full replay" } ?? "no snapshot to check"))
    }
}
