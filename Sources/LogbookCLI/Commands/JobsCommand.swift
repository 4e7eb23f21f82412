import ArgumentParser
import JobTimeline
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
    var statuses: [JobStatus] = []
    @Flag(help: "Only interrupted (resumable) jobs.") var resumable = false
    @Flag(help: "Only terminal jobs whose side effects have not run (not finalized).") var unfinalized = false
    @Option(help: "Only jobs whose current attempt is on this node.") var node: String?
    @Option(name: .customLong("silent-for"), help: "Only running jobs silent for at least this long.")
    var silentFor: DurationArgument?
    @Option(name: .customLong("stalled-for"), help: "Only running jobs without progress for at least this long.")
    var stalledFor: DurationArgument?
    @Option(help: "The time --silent-for and --stalled-for are measured from (RFC 3339 or e.g. 2h-ago; default: now).")
    var now: TimeArgument?
    @Flag(help: "Print a JSON array of job states sorted by job id.") var json = false
    @Option(help: "Colour statuses: auto (on a terminal, unless NO_COLOR is set), always or never.")
    var color: ColorChoice = .auto

    func query() throws -> JobQuery {
        var q = JobQuery()
        q.statuses = Set(statuses)
        q.resumable = resumable
        q.unfinalized = unfinalized
        q.node = node
        q.silentFor = silentFor?.microseconds
        q.stalledFor = stalledFor?.microseconds
        q.now = now?.timestamp ?? Logbook.systemClock()
        return q
    }

    func run() async throws {
        let q = try query()
        let logbook = try await global.openForReading()
        defer { logbook.close() }
        let jobs = logbook.jobs(q)
        if json {
            Terminal.line("[" + jobs.map(\.json).joined(separator: ",") + "]")
            return
        }
        guard !jobs.isEmpty else {
            // On stderr, so `logbook jobs | wc -l` counts jobs.
            Terminal.errorLine("no matching jobs")
            return
        }
        let now = q.now ?? Logbook.systemClock()
        var table = Table(["JOB", "STATUS", "ATTEMPT", "NODE", "VERSION", "LAST SIGN OF LIFE", "REFS", "ANOMALIES"])
        for s in jobs {
            let status = s.awaitsFinalization ? s.status.name + " (unfinalized)" : s.status.name
            let life = s.lastSignOfLife.map { "\(Terminal.age($0, now: now)) (\(TerminalTimeline.clock($0)))" } ?? "-"
            table.add([
                s.job, status, String(s.attempt), s.node ?? "-", String(s.version), life, String(s.refs.count),
                String(s.anomalyCount),
            ])
        }
        if color.enabled {
            table.cellStyle = { row, column, text in
                guard column == 1, let style = Terminal.style(of: jobs[row].status) else { return text }
                return Terminal.styled(text, style, enabled: true)
            }
        }
        Terminal.write(table.render(width: Terminal.tableWidth))
    }
}
