import ArgumentParser
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

    func run() async throws {
        let logbook = try global.openForWriting(snapshotEvery: nil, create: false)
        defer { logbook.close() }
        let seq = try await logbook.snapshot()
        Terminal.line("snapshot covers seq \(seq) (\(logbook.currentProjections.jobCount) jobs)")
    }
}
