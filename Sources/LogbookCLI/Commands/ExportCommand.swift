import ArgumentParser
import JobTimeline
import Logbook

struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Print events as JSON Lines in the ingest format (a whole journal or an incident bundle).",
        discussion: """
            Without filters: every event in seq order. With --job: the full history of those jobs (an \
            unknown job is an error). With --since / --until: the full history of every job with an \
            event in that window (--since after --until is an error). Both: those jobs that have an \
            event in the window (AND). Ingesting the output into a new journal reproduces every job's \
            state (seqs and versions are assigned anew).

            Example:
              logbook export > all.jsonl
              logbook export --job scan-3 --job scan-4 > bundle.jsonl
              logbook export --since 2026-06-01T00:00:00Z --until 2026-06-02T00:00:00Z > window.jsonl
            """
    )

    @OptionGroup var global: GlobalOptions
    @Option(name: .customLong("job"), help: "A job to include (repeatable).") var jobs: [String] = []
    @Option(help: "Include jobs with an event at or after this time (RFC 3339 or e.g. 2h-ago).") var since: TimeArgument?
    @Option(help: "Include jobs with an event at or before this time (RFC 3339 or e.g. 2h-ago).") var until: TimeArgument?

    func validate() throws {
        if let since, let until, since.timestamp > until.timestamp {
            throw ValidationError("--since \(since.timestamp.rfc3339) is after --until \(until.timestamp.rfc3339)")
        }
    }

    func run() async throws {
        try await global.catchUpReplica()
        do {
            try Logbook.Maintenance.export(at: global.journalPath, jobs: jobs, since: since?.timestamp, until: until?.timestamp) { chunk in
                Terminal.write(chunk)
            }
        } catch Logbook.Refusal.noSuchJob(let job) {
            throw CLIError("--job: no such job: \(job.printable)")
        }
    }
}
