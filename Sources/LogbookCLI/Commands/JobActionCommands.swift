import ArgumentParser
import JobTimeline
import Lifecycle
import Logbook

/// What `append`, `cancel`, `interrupt` and `finalize` print after storing an event: the seq and
/// what the fold made of it, with the job's state after it (`--json`: one object).
enum AppendReport {
    static func print(_ outcome: AppendOutcome, json: Bool, logbook: Logbook) throws {
        guard let stored = outcome.events.last else { return }
        let state = outcome.state
        // The fold's effect: the state keeps the anomaly when it was ignored, unless it already keeps
        // its first 100; then the job's history says.
        var ignored = state.anomalies.last { $0.seq == stored.seq }
        if ignored == nil, state.anomalyCount > state.anomalies.count {
            ignored = try logbook.history(of: state.job).last { $0.event.seq == stored.seq }?.anomaly
        }
        if json {
            Terminal.line(JSONText.object([
                ("seq", String(stored.seq)),
                ("version", String(stored.version)),
                ("effect", JSONText.quoted(ignored == nil ? "applied" : "ignored")),
                ("reason", ignored.map { JSONText.quoted($0.message) }),
                ("replayed", outcome.replayed ? "true" : "false"),
                ("state", state.json),
            ]))
            return
        }
        let job = state.job.printable
        if outcome.replayed {
            Terminal.line(
                "already stored: seq \(stored.seq) of \(job) has this event id (nothing appended); the job is now "
                    + "\(state.status.name) (version \(state.version))")
        } else if let ignored {
            Terminal.line(
                "appended seq \(stored.seq) to \(job): stored as evidence, ignored: \(ignored.message.printable.withoutIgnoredSuffix)"
                    + "; the job stays \(state.status.name)")
        } else {
            var detail = state.status.name
            if state.status == .running { detail += ", attempt \(state.attempt) on \(state.node?.printable ?? "an unnamed node")" }
            if state.terminal { detail += state.finalized ? ", finalized" : ", not finalized" }
            Terminal.line("appended seq \(stored.seq) to \(job): now \(detail) (version \(state.version))")
        }
    }
}

/// The shared shape of `cancel`, `interrupt` and `finalize`: read the job, refuse an event the
/// fold would ignore, append under the version read, print the outcome.
enum JobAction {
    static func run(
        _ global: GlobalOptions, job: String, json: Bool, _ makeEvent: @escaping (JobState) -> Event
    ) async throws {
        try await global.withWriter(create: false) { logbook in
            let outcome: AppendOutcome
            do {
                outcome = try await logbook.act(on: job, makeEvent)
            } catch Logbook.Refusal.noSuchJob {
                throw CLIError("no such job: \(job.printable)")
            } catch Logbook.Refusal.wouldBeIgnored(let anomaly) {
                // Storing an event the fold ignores would change nothing: say why instead.
                throw CLIError("\(job.printable): \(anomaly.message.printable.replacingIgnored()); nothing appended")
            } catch JournalError.versionConflict(_, let expected, let actual) {
                Terminal.errorLine(
                    "Error: \(job.printable) changed while this command ran (version \(expected) when read, \(actual) now); "
                        + "nothing stored. Look again (logbook status \(job.printable)) and retry if it still applies.")
                throw ExitCode.versionConflict
            }
            try AppendReport.print(outcome, json: json, logbook: logbook)
        }
    }
}

extension String {
    /// An anomaly's message without its closing ": ignored" (for sentences that say so already).
    var withoutIgnoredSuffix: String { hasSuffix(": ignored") ? String(dropLast(": ignored".count)) : self }

    /// "cancelled after completed at seq 4: ignored" reads, for a refusal, as "… at seq 4: it would be ignored".
    fileprivate func replacingIgnored() -> String { withoutIgnoredSuffix + ": it would be ignored" }
}

struct CancelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cancel",
        abstract: "Cancel a job, unless it changed since it was read.",
        discussion: """
            Reads the job's version and appends `cancelled` with it as the expected version: a change \
            that raced in is refused (exit 3, nothing stored), never overwritten. A job already decided \
            is refused with the reason (exit 1). Prints the job's state after it.

            Example:
              logbook cancel scan-3 --reason "cancelled by alice"
            """
    )

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The job id.") var job: String
    @Option(help: "Why (shown by status, explain and timeline).") var reason: String?
    @Flag(help: "Print the outcome as one JSON object.") var json = false

    func run() async throws {
        try await JobAction.run(global, job: job, json: json) { _ in Event(job: job, type: .cancelled, reason: reason) }
    }
}

struct InterruptCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "interrupt",
        abstract: "Interrupt a job's current attempt, making it resumable, unless it changed since it was read.",
        discussion: """
            Appends `interrupted` naming the current attempt, under the version read (a change that \
            raced in: exit 3, nothing stored). The job then appears in `jobs --resumable`.

            Example:
              logbook interrupt crawl-hc-6 --reason "stalled 20h; requeue"
            """
    )

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The job id.") var job: String
    @Option(help: "Why (shown by status, explain and timeline).") var reason: String?
    @Flag(help: "Print the outcome as one JSON object.") var json = false

    func run() async throws {
        try await JobAction.run(global, job: job, json: json) { state in
            Event(job: job, type: .interrupted, reason: reason, attempt: state.attempt > 0 ? state.attempt : nil)
        }
    }
}

struct FinalizeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "finalize",
        abstract: "Mark a terminal job's side effects as done, unless it changed since it was read.",
        discussion: """
            For an operator who ran a job's terminal side effects by hand (released its slot, notified \
            its parent): appends `finalized` under the version read, so the job leaves the \
            unfinalized outbox. A job that is not terminal, or already finalized, is refused (exit 1).

            Example:
              logbook finalize task-42
            """
    )

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The job id.") var job: String
    @Flag(help: "Print the outcome as one JSON object.") var json = false

    func run() async throws {
        try await JobAction.run(global, job: job, json: json) { _ in Event(job: job, type: .finalized) }
    }
}
