import ArgumentParser
import JobTimeline
import Logbook

struct ReplayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Show a job's history: every event, the status after it, and why ignored events were ignored.",
        discussion: """
            Runs of applied heartbeats are one row ("heartbeat ×170 over 2h") unless --all. ATTEMPT is \
            the attempt the event named beside the current one ("1 (now 2)": a fenced zombie). On a \
            terminal, deciding events are green or red and anomalies yellow.

            Example:
              logbook replay scan-3
              logbook replay crawl-hc-6 --anomalies-only
              logbook replay task-42 --tail 20
              logbook replay scan-3 --json | jq 'select(.effect == "ignored")'
            """
    )

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The job id.") var job: String
    @Flag(help: "Print JSON Lines, one object per event (never collapsed).") var json = false
    @Flag(help: "Show every heartbeat (by default runs of applied heartbeats are one row).") var all = false
    @Flag(name: .customLong("anomalies-only"), help: "Only the events the fold ignored.") var anomaliesOnly = false
    @Option(
        parsing: .unconditional, help: "Only the last N rows.", transform: WholeNumber.atLeast(1, "tail"))
    var tail: Int?

    /// A row of the table: one event, or a run of applied heartbeats.
    enum Row {
        case event(TimelineEntry)
        case heartbeats(first: TimelineEntry, last: TimelineEntry, count: Int)
    }

    func run() async throws {
        let logbook = try await global.openForReading()
        defer { logbook.close() }
        let timeline = try logbook.history(of: job)
        guard !timeline.isEmpty else { throw CLIError("no such job: \(job.printable)") }
        if json {
            var previous = JobState(job: job)
            var lines: [String] = []
            for entry in timeline {
                if !anomaliesOnly || entry.anomaly != nil { lines.append(entry.json(previous: previous)) }
                previous = entry.stateAfter
            }
            for line in tail.map({ lines.suffix($0) }) ?? lines[...] { Terminal.line(line) }
            return
        }
        var rows = ReplayCommand.rows(timeline, collapse: !all && !anomaliesOnly)
        if anomaliesOnly {
            rows = rows.filter { if case .event(let e) = $0 { e.anomaly != nil } else { false } }
        }
        if let tail { rows = Array(rows.suffix(tail)) }
        let colour = Terminal.colourOnStdout
        var table = Table(["SEQ", "AT", "TYPE", "NODE/HOLDER", "REASON", "ATTEMPT", "STATUS", "NOTE"])
        for row in rows {
            switch row {
            case .event(let entry):
                let e = entry.event.event
                let who = [e.node, e.holder.map { "holder " + $0 }].compactMap { $0 }.joined(separator: ", ")
                var note = entry.anomaly.map { "⚠ " + $0.message } ?? ""
                if entry.anomaly == nil, e.type.isTerminal { note = "decides: " + entry.stateAfter.status.name }
                if entry.anomaly == nil, e.type == .refReleased, entry.stateAfter.decidedBy == entry.event.seq {
                    note = "last ref released: cancelled"
                }
                table.add([
                    String(entry.event.seq), entry.event.at.rfc3339, e.type.name, who.isEmpty ? "-" : who, e.reason ?? "-",
                    ReplayCommand.attempt(claimed: e.attempt, current: entry.stateAfter.attempt), entry.stateAfter.status.name,
                    note,
                ])
            case .heartbeats(let first, let last, let count):
                let span = DurationText.short(last.event.at.microseconds - first.event.at.microseconds)
                table.add([
                    "\(first.event.seq)-\(last.event.seq)", first.event.at.rfc3339, "heartbeat ×\(count) over \(span)", "-", "-",
                    ReplayCommand.attempt(claimed: first.event.event.attempt, current: first.stateAfter.attempt),
                    last.stateAfter.status.name, "",
                ])
            }
        }
        table.rowStyle = { i, text in
            guard case .event(let entry) = rows[i] else { return text }
            if entry.anomaly != nil { return Terminal.styled(text, .yellow, enabled: colour) }
            if entry.stateAfter.decidedBy == entry.event.seq {
                return Terminal.styled(text, entry.stateAfter.status == .completed ? .green : .red, enabled: colour)
            }
            return text
        }
        Terminal.write(table.render(width: Terminal.tableWidth))
    }

    /// The attempt an event named beside the job's current one: "1 (now 2)" is a zombie's.
    static func attempt(claimed: UInt32?, current: UInt32) -> String {
        guard let claimed else { return String(current) }
        return claimed == current ? String(claimed) : "\(claimed) (now \(current))"
    }

    /// Events as rows; with `collapse`, each run of consecutive applied heartbeats of one attempt is one row.
    static func rows(_ timeline: [TimelineEntry], collapse: Bool) -> [Row] {
        var rows: [Row] = []
        var run: [TimelineEntry] = []
        func flush() {
            if run.count == 1 { rows.append(.event(run[0])) }
            if run.count > 1 { rows.append(.heartbeats(first: run[0], last: run[run.count - 1], count: run.count)) }
            run = []
        }
        for entry in timeline {
            let isBeat = collapse && entry.event.event.type == .heartbeat && entry.anomaly == nil
            if isBeat, let last = run.last, last.stateAfter.attempt != entry.stateAfter.attempt { flush() }
            if isBeat {
                run.append(entry)
            } else {
                flush()
                rows.append(.event(entry))
            }
        }
        flush()
        return rows
    }
}
