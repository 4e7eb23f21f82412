import ArgumentParser
import Lifecycle
import Logbook

struct SnapshotCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshot",
        abstract: "Write a projection snapshot now and print the seq it covers.",
        discussion: """
            Opening a journal loads the newest snapshot and folds only the events after it.

            Example:
              logbook snapshot
            """
    )

    @OptionGroup var global: GlobalOptions
    @Flag(help: "Print one JSON object: snapshotSeq, jobs.") var json = false

    func run() async throws {
        let logbook = try global.openForWriting(snapshotEvery: nil, create: false)
        defer { logbook.close() }
        let seq = try await logbook.snapshot()
        let jobs = logbook.currentProjections.jobCount
        Terminal.line(
            json ? JSONText.object([("snapshotSeq", String(seq)), ("jobs", String(jobs))]) : "snapshot covers seq \(seq) (\(jobs) jobs)")
    }
}
