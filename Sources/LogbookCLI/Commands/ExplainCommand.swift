import ArgumentParser
import JobTimeline
import Logbook

struct ExplainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Explain in prose why a job is in its state.",
        discussion: """
            Example:
              logbook explain scan-3
            """
    )

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The job id.") var job: String

    func run() async throws {
        let logbook = try global.openForReading()
        defer { logbook.close() }
        let timeline = try logbook.history(of: job)
        guard let final = timeline.last?.stateAfter else { throw CLIError("no such job: \(job.printable)") }
        Terminal.write(ExplainCommand.explain(final, timeline))
    }

    static func explain(_ s: JobState, _ timeline: [TimelineEntry]) -> String {
        var out: [String] = []
        let events = timeline.count == 1 ? "1 event" : "\(timeline.count) events"
        out.append("Job \(s.job) is \(s.status.name) (version \(s.version), \(events) in the journal).")
        if let decided = s.decidedBy, let entry = timeline.first(where: { $0.event.seq == decided }) {
            let e = entry.event
            let by = e.event.node.map { " from \($0)" } ?? e.event.holder.map { " by \($0)" } ?? ""
            let why = s.decidedReason.map { ", reason \"\($0)\"" } ?? ""
            if e.event.type == .refReleased {
                out.append("It was decided at seq \(decided) (\(e.at.rfc3339)): \(e.event.holder ?? "?") released the last reference, so the job was cancelled.")
            } else {
                out.append("It was decided at seq \(decided) (\(e.at.rfc3339)) by \(e.event.type.name)\(by)\(why). A terminal status is final: nothing after it changes the outcome.")
            }
            if s.finalized {
                out.append("Its terminal side effects ran (finalized)" + (s.finalizing.map { ", claimed by \($0.holder) at seq \($0.seq)." } ?? "."))
            } else if let claim = s.finalizing {
                out.append("Its terminal side effects have not run yet (not finalized): \(claim.holder) claimed them at seq \(claim.seq) (\(claim.at.rfc3339)); another drainer takes over once that claim is older than its lease.")
            } else {
                out.append("Its terminal side effects have not run yet (not finalized): it is in the unfinalized outbox.")
            }
        } else {
            switch s.status {
            case .pending: out.append("No attempt has started yet.")
            case .running: out.append("Attempt \(s.attempt) is running on \(s.node ?? "an unnamed node") since \(s.attemptStartedAt?.rfc3339 ?? "?").")
            case .interrupted: out.append("Attempt \(s.attempt) was interrupted; the job is resumable.")
            default: break
            }
            if s.status == .running {
                out.append("Last heartbeat: \(s.lastHeartbeatAt?.rfc3339 ?? "none in this attempt"); last progress: \(s.lastProgressAt?.rfc3339 ?? "none in this attempt")\(s.index.map { " (index \($0))" } ?? "").")
            }
        }
        out.append(s.refs.isEmpty ? "No one holds a reference." : "References held by: \(s.refs.joined(separator: ", ")).")
        let attempts = timeline.filter { $0.anomaly == nil && $0.event.event.type.opensAttempt }
        if !attempts.isEmpty {
            out.append("Attempts:")
            for (i, a) in attempts.enumerated() {
                out.append("  \(i + 1). \(a.event.event.type.name) at seq \(a.event.seq) (\(a.event.at.rfc3339)) on \(a.event.event.node ?? "an unnamed node")")
            }
        }
        let ignored = timeline.compactMap(\.anomaly)
        if ignored.isEmpty {
            out.append("No event was ignored.")
        } else {
            out.append("Ignored events (\(ignored.count)), kept in the journal as evidence:")
            for a in ignored { out.append("  seq \(a.seq): \(a.message)") }
        }
        return out.map(\.printable).joined(separator: "\n") + "\n"
    }
}
