import ArgumentParser
import JobTimeline
import Logbook

struct AppendCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "append",
        abstract: "Append one event; print its seq and what the fold made of it.",
        discussion: """
            With --expect-version V the event is stored only if the job's version (events ever appended \
            to it) is V; otherwise the exit code is 3 and nothing is stored.

            With --id UUID the event carries that id: appending it again (a retry after a timeout, say)             stores nothing and prints what the first append stored; the same id on another event is             refused (exit 3).

            Example:
              logbook append --job scan-3 --type cancelled --reason "cancelled by user"
              logbook append --job task-9 --type interrupted --reason requeue --expect-version 4
              logbook append --job scan-3 --type progress --index 40 --id 0f8b2c1e-6a4d-4c1b-9a52-3e7d9f1a2b60
            """
    )

    @OptionGroup var global: GlobalOptions
    @Option(help: "The job id.") var job: String
    @Option(help: "The event type.") var type: EventType
    @Option(help: "When it happened (RFC 3339 or e.g. 2h-ago; default: now).") var at: TimeArgument?
    @Option(help: "The worker's node.") var node: String?
    @Option(help: "The ref holder (required for refAcquired / refReleased).") var holder: String?
    @Option(help: "Why.") var reason: String?
    @Option(parsing: .unconditional, help: "Progress position (integer >= 0).", transform: WholeNumber.atLeast(UInt64(0), "index"))
    var index: UInt64?
    @Option(parsing: .unconditional, help: "The attempt the writer believes is current (integer >= 1).", transform: WholeNumber.atLeast(UInt32(1), "attempt"))
    var attempt: UInt32?
    @Option(help: "A JSON object stored verbatim.") var data: String?
    @Option(
        name: .customLong("expect-version"), parsing: .unconditional, help: "Store only if the job's version is this.",
        transform: WholeNumber.atLeast(UInt64(0), "expect-version"))
    var expectVersion: UInt64?
    @Option(
        help: "The event's id, a UUID: a retry with the same id stores nothing again.",
        transform: { text in
            guard let id = EventID(uuid: text) else { throw ValidationError("--id: not a UUID (8-4-4-4-12 hex digits): \"\(text)\"") }
            return id
        })
    var id: EventID?
    @Flag(help: "Print the outcome as one JSON object: seq, version, effect, the fold's reason when ignored, replayed, the job's state.")
    var json = false

    func run() async throws {
        let event = Event(
            job: job, type: type, at: at?.timestamp, node: node, holder: holder,
            reason: reason, index: index, attempt: attempt, data: data, id: id)
        do {
            try event.validate()
        } catch {
            throw ValidationError("--\(error.field): \(error.problem)")
        }
        try await global.withWriter(create: true) { logbook in
            let outcome: AppendOutcome
            do {
                outcome = try await logbook.append(event, expectedVersion: expectVersion)
            } catch JournalError.versionConflict(let job, let expected, let actual) {
                Terminal.errorLine(
                    "Error: version conflict on job \(job.printable): expected version \(expected), actual version \(actual); nothing stored")
                throw ExitCode.versionConflict
            }
            try AppendReport.print(outcome, json: json, logbook: logbook)
        }
    }
}
