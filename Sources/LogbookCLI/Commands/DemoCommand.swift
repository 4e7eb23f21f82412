import ArgumentParser
import Logbook

struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Build a journal from the four seed incidents and show what an operator sees.",
        discussion: """
            Writes into --journal (it must be empty or absent), then queries it like an operator would.

            Example:
              logbook --journal demo.journal demo
            """
    )

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        try global.refuseSharedLog("demo", "writes a fresh local journal; run it without --postgres")
        let events = try EventLines.parse(Array(IncidentJournal.lines.utf8), source: "demo data")
        let existing = (try? Logbook.Maintenance.eventCount(at: global.journalPath)) ?? 0
        guard existing == 0 else {
            throw CLIError("\(global.journalPath) already holds \(existing) events; give the demo a fresh --journal")
        }
        let stored = try await Logbook.Maintenance.ingest(events, into: global.journalPath)
        let now = IncidentJournal.now
        say("# Logbook demo: four real incidents, replayed as events")
        say("Ingested \(stored.appended) events (seq 1...\(stored.lastSeq ?? 0)) into \(global.journalPath).\n")

        let logbook = try await global.openForReading()
        defer { logbook.close() }
        say("$ logbook jobs --now \(now)")
        var all = try JobsCommand.parse(["--now", now])
        all.global = global
        try await all.run()

        for incident in IncidentJournal.incidents {
            say("\n## \(incident.title)")
            say("What happened: \(incident.story)\n")
            say("$ logbook explain \(incident.job)")
            let timeline = try logbook.history(of: incident.job)
            if let explanation = Explanation(timeline) { Terminal.write(explanation.text) }
        }

        say("\n## The queries that replace ad-hoc resume SQL (as of \(now))")
        for args in [
            ["--resumable"], ["--unfinalized"], ["--stalled-for", "1h"], ["--silent-for", "10m"],
            ["--status", "running", "--node", "vps"],
        ] {
            say("\n$ logbook jobs \(args.joined(separator: " ")) --now \(now)")
            var command = try JobsCommand.parse(args + ["--now", now])
            command.global = global
            try await command.run()
        }

        say("\n## A stale requeue loses cleanly (the HA runner's second race)")
        let version = logbook.state(of: "task-42")?.version ?? 0
        say("$ logbook append --job task-42 --type interrupted --reason requeue --expect-version \(version - 1)")
        let writer = try global.openForWriting(snapshotEvery: nil, create: false)
        defer { writer.close() }
        do {
            _ = try await writer.append(
                Event(job: "task-42", type: .interrupted, reason: "requeue"), expectedVersion: version - 1)
            say("unexpected: the stale requeue was stored")
        } catch {
            say("Error: \(error); nothing stored (exit code 3)")
        }
        say("\nNext: logbook --journal \(global.journalPath) replay scan-3   (see docs/forensics.md)")
    }

    private func say(_ text: String) { Terminal.line(text) }
}
