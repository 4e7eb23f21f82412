import ArgumentParser
import Logbook

#if canImport(Glibc)
import Glibc
#endif

struct JobsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jobs",
        abstract: "List jobs matching every given filter.",
        discussion: """
            Filters combine with AND. --silent-for: running with no start, heartbeat or progress in the \
            current attempt for that long. --stalled-for: running with no start or progress in the \
            current attempt for that long (heartbeats do not count). --now defaults to the current time.

            Example:
              logbook jobs --resumable
              logbook jobs --unfinalized --json
              logbook jobs --status running --node node-b --silent-for 90s
            """
    )

    @OptionGroup var global: GlobalOptions
    @Option(name: .customLong("status"), help: "Only jobs with this status (repeatable: any of them).")
    var statuses: [String] = []
    @Flag(help: "Only interrupted (resumable) jobs.") var resumable = false
    @Flag(help: "Only terminal jobs whose side effects have not run (not finalized).") var unfinalized = false
    @Option(help: "Only jobs whose current attempt is on this node.") var node: String?
    @Option(name: .customLong("silent-for"), help: "Only running jobs silent for at least this long.") var silentFor: String?
    @Option(name: .customLong("stalled-for"), help: "Only running jobs without progress for at least this long.")
    var stalledFor: String?
    @Option(help: "The time --silent-for and --stalled-for are measured from (RFC 3339; default: now).") var now: String?
    @Flag(help: "Print a JSON array of job states sorted by job id.") var json = false

    func query() throws -> JobQuery {
        var q = JobQuery()
        for s in statuses {
            guard let status = JobStatus(name: s) else {
                throw ValidationError("--status: unknown status \"\(s)\" (pending, running, interrupted, completed, failed, cancelled)")
            }
            q.statuses.insert(status)
        }
        q.resumable = resumable
        q.unfinalized = unfinalized
        q.node = node
        q.silentFor = try silentFor.map { try parseDuration($0, option: "--silent-for") }
        q.stalledFor = try stalledFor.map { try parseDuration($0, option: "--stalled-for") }
        q.now = try now.map { try parseTime($0, option: "--now") } ?? Journal.systemClock()
        return q
    }

    func run() async throws {
        let q = try query()
        let logbook = try global.openForReading()
        defer { logbook.close() }
        let jobs = logbook.jobs(q)
        if json {
            Terminal.line("[" + jobs.map(\.json).joined(separator: ",") + "]")
            return
        }
        guard !jobs.isEmpty else {
            Terminal.line("no matching jobs")
            return
        }
        var table = Table(["JOB", "STATUS", "ATTEMPT", "NODE", "VERSION", "LAST SIGN OF LIFE", "REFS", "ANOMALIES"])
        for s in jobs {
            let status = s.awaitsFinalization ? s.status.name + " (unfinalized)" : s.status.name
            table.add([
                s.job, status, String(s.attempt), s.node ?? "-", String(s.version), s.lastSignOfLife?.rfc3339 ?? "-",
                String(s.refs.count), String(s.anomalyCount),
            ])
        }
        Terminal.write(table.render())
    }
}
