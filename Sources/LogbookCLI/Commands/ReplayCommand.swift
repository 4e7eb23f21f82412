import ArgumentParser
import JobTimeline
import Logbook

struct ReplayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Show a job's timeline: every event, the status after it, and why ignored events were ignored.",
        discussion: """
            On a terminal, terminal events are green or red and anomalies yellow.

            Example:
              logbook replay scan-3
              logbook replay scan-3 --json | jq 'select(.effect == "ignored")'
            """
    )

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The job id.") var job: String
    @Flag(help: "Print JSON Lines, one object per event.") var json = false

    func run() async throws {
        let logbook = try global.openForReading()
        defer { logbook.close() }
        let timeline = try logbook.history(of: job)
        guard !timeline.isEmpty else { throw CLIError("no such job: \(job.printable)") }
        if json {
            for line in timeline.jsonEntries(startingFrom: JobState(job: job)) { Terminal.line(line) }
            return
        }
        let colour = Terminal.colourOnStdout
        var table = Table(["SEQ", "AT", "TYPE", "NODE/HOLDER", "STATUS", "ATTEMPT", "NOTE"])
        for entry in timeline {
            let e = entry.event.event
            let who = [e.node, e.holder.map { "holder " + $0 }].compactMap { $0 }.joined(separator: ", ")
            var note = entry.anomaly.map { "⚠ " + $0.message } ?? ""
            if entry.anomaly == nil, entry.event.event.type.isTerminal { note = "decides: " + entry.stateAfter.status.name }
            if entry.anomaly == nil, e.type == .refReleased, entry.stateAfter.decidedBy == entry.event.seq {
                note = "last ref released: cancelled"
            }
            table.add([
                String(entry.event.seq), entry.event.at.rfc3339, e.type.name, who.isEmpty ? "-" : who,
                entry.stateAfter.status.name, String(entry.stateAfter.attempt), note,
            ])
        }
        table.rowStyle = { i, text in
            let entry = timeline[i]
            if entry.anomaly != nil { return Terminal.styled(text, .yellow, enabled: colour) }
            if entry.stateAfter.decidedBy == entry.event.seq {
                return Terminal.styled(text, entry.stateAfter.status == .completed ? .green : .red, enabled: colour)
            }
            return text
        }
        Terminal.write(table.render())
    }
}
