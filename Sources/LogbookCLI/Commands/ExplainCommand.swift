import ArgumentParser
import JobTimeline
import Lifecycle
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
    @Flag(help: "Print one JSON object: job, state, events, decided, attempts, interruptions, ignored (grouped), text.")
    var json = false

    func run() async throws {
        let logbook = try await global.openForReading()
        defer { logbook.close() }
        let timeline = try logbook.history(of: job)
        guard let explanation = Explanation(timeline) else { throw CLIError("no such job: \(job.printable)") }
        Terminal.write(json ? explanation.json + "\n" : explanation.text)
    }
}

/// What `explain` says about a job, as data: the prose and `--json` are two renderings of it.
struct Explanation {
    struct Decision {
        var seq: UInt64
        var at: Timestamp
        var type: EventType
        /// The node, else the holder, named by the deciding event.
        var node: String?
        var holder: String?
        var by: String? { node ?? holder }
        var reason: String?
    }
    struct Attempt {
        var number: Int
        var type: EventType
        var seq: UInt64
        var at: Timestamp
        var node: String?
    }
    struct Interruption {
        var seq: UInt64
        var at: Timestamp
        var attempt: UInt32
        var reason: String?
        var by: String?
        /// Who interrupts with this reason, when the reason is one Logbook writes itself.
        var meaning: String? {
            switch reason {
            case "leaseExpired": "by the reaper: no heartbeat within the lease"
            case "stalled": "by the reaper: heartbeats but no progress within the stall timeout"
            case "workerCancelled": "by the worker: its own task was cancelled"
            default: nil
            }
        }
    }
    /// Ignored events with the same message (a zombie's 170 heartbeats), counted once.
    struct IgnoredRun {
        var message: String
        var type: EventType
        var seqs: [UInt64]
    }

    var state: JobState
    var events: Int
    var decided: Decision?
    var attempts: [Attempt]
    var interruptions: [Interruption]
    var ignored: [IgnoredRun]

    init?(_ timeline: [TimelineEntry]) {
        guard let final = timeline.last?.stateAfter else { return nil }
        state = final
        events = timeline.count
        decided = final.decidedBy.flatMap { seq in timeline.first { $0.event.seq == seq } }.map { entry in
            let e = entry.event
            return Decision(
                seq: e.seq, at: e.at, type: e.event.type, node: e.event.node, holder: e.event.holder,
                reason: final.decidedReason)
        }
        let applied = timeline.filter { $0.anomaly == nil }
        attempts = applied.filter { $0.event.event.type.opensAttempt }.enumerated().map { i, a in
            Attempt(number: i + 1, type: a.event.event.type, seq: a.event.seq, at: a.event.at, node: a.event.event.node)
        }
        interruptions = applied.filter { $0.event.event.type == .interrupted }.map { entry in
            let e = entry.event
            return Interruption(
                seq: e.seq, at: e.at, attempt: e.event.attempt ?? entry.stateAfter.attempt, reason: e.event.reason,
                by: e.event.node ?? e.event.holder)
        }
        var runs: [IgnoredRun] = []
        var runOfMessage: [String: Int] = [:]
        for anomaly in timeline.compactMap(\.anomaly) {
            if let i = runOfMessage[anomaly.message] {
                runs[i].seqs.append(anomaly.seq)
            } else {
                runOfMessage[anomaly.message] = runs.count
                runs.append(IgnoredRun(message: anomaly.message, type: anomaly.type, seqs: [anomaly.seq]))
            }
        }
        ignored = runs
    }

    var ignoredCount: Int { ignored.reduce(0) { $0 + $1.seqs.count } }

    /// The prose, one statement per line, control characters escaped.
    var text: String { lines.map(\.printable).joined(separator: "\n") + "\n" }

    var lines: [String] {
        let s = state
        var out: [String] = []
        out.append("Job \(s.job) is \(s.status.name) (version \(s.version), \(events == 1 ? "1 event" : "\(events) events") in the journal).")
        if let d = decided {
            if d.type == .refReleased {
                out.append("It was decided at seq \(d.seq) (\(d.at.rfc3339)): \(d.holder ?? "?") released the last reference, so the job was cancelled.")
            } else {
                let by = d.node.map { " from \($0)" } ?? d.holder.map { " by \($0)" } ?? ""
                let why = d.reason.map { ", reason \"\($0)\"" } ?? ""
                out.append("It was decided at seq \(d.seq) (\(d.at.rfc3339)) by \(d.type.name)\(by)\(why). A terminal status is final: nothing after it changes the outcome.")
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
        if !attempts.isEmpty {
            out.append("Attempts:")
            for a in attempts {
                out.append("  \(a.number). \(a.type.name) at seq \(a.seq) (\(a.at.rfc3339)) on \(a.node ?? "an unnamed node")")
            }
        }
        if !interruptions.isEmpty {
            out.append("Interruptions:")
            for i in interruptions {
                let reason = i.reason.map { ", reason \"\($0)\"" } ?? ", no reason given"
                let who = i.meaning.map { " (\($0))" } ?? i.by.map { " (by \($0))" } ?? ""
                out.append("  seq \(i.seq) (\(i.at.rfc3339)): attempt \(i.attempt) interrupted\(reason)\(who)")
            }
        }
        if ignored.isEmpty {
            out.append("No event was ignored.")
        } else {
            out.append("Ignored events (\(ignoredCount)), kept in the journal as evidence:")
            for run in ignored {
                if run.seqs.count == 1 {
                    out.append("  seq \(run.seqs[0]): \(run.message)")
                } else {
                    out.append("  seq \(run.seqs[0]) … seq \(run.seqs[run.seqs.count - 1]) (\(run.seqs.count) times): \(run.message)")
                }
            }
        }
        return out
    }

    /// The same facts as JSON; `text` holds the prose lines (exact, not escaped).
    var json: String {
        func quoted(_ s: String?) -> String { s.map(JSONText.quoted) ?? "null" }
        let decision = decided.map { d in
            JSONText.object([
                ("seq", String(d.seq)), ("at", quoted(d.at.rfc3339)), ("type", quoted(d.type.name)), ("node", quoted(d.node)),
                ("holder", quoted(d.holder)),
                ("reason", quoted(d.reason)),
            ])
        } ?? "null"
        let attemptList = attempts.map { a in
            JSONText.object([
                ("number", String(a.number)), ("type", quoted(a.type.name)), ("seq", String(a.seq)), ("at", quoted(a.at.rfc3339)),
                ("node", quoted(a.node)),
            ])
        }
        let interruptionList = interruptions.map { i in
            JSONText.object([
                ("seq", String(i.seq)), ("at", quoted(i.at.rfc3339)), ("attempt", String(i.attempt)), ("reason", quoted(i.reason)),
                ("by", quoted(i.by)), ("meaning", quoted(i.meaning)),
            ])
        }
        let ignoredList = ignored.map { r in
            JSONText.object([
                ("message", quoted(r.message)), ("type", quoted(r.type.name)), ("count", String(r.seqs.count)),
                ("seqs", "[" + r.seqs.map { String($0) }.joined(separator: ",") + "]"),
            ])
        }
        func array(_ items: [String]) -> String { "[" + items.joined(separator: ",") + "]" }
        return JSONText.object([
            ("job", quoted(state.job)), ("state", state.json), ("events", String(events)), ("decided", decision),
            ("attempts", array(attemptList)), ("interruptions", array(interruptionList)), ("ignored", array(ignoredList)),
            ("ignoredCount", String(ignoredCount)), ("text", array(lines.map(JSONText.quoted))),
        ])
    }
}
