import ArgumentParser
import JobTimeline
import Logbook

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show a job's state, now or in the past.",
        discussion: """
            Example:
              logbook status scan-3
              logbook status scan-3 --json
              logbook status scan-3 --until-seq 4        # the state after its events up to seq 4
              logbook status scan-3 --at 2026-06-01T10:00:00Z
            """
    )

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The job id.") var job: String
    @Option(name: .customLong("until-seq"), help: "Time travel: fold the job's events up to this seq.") var untilSeq: UInt64?
    @Option(help: "Time travel: fold the job's events up to this time (RFC 3339 or e.g. 2h-ago).") var at: TimeArgument?
    @Flag(help: "Print one JSON object.") var json = false
    @Option(help: "Colour the status: auto (on a terminal, unless NO_COLOR is set), always or never.")
    var color: ColorChoice = .auto

    func validate() throws {
        if untilSeq != nil && at != nil { throw ValidationError("use --until-seq or --at, not both") }
    }

    func run() async throws {
        let logbook = try await global.openForReading()
        defer { logbook.close() }
        let state: JobState?
        if let untilSeq {
            state = try logbook.state(of: job, throughSeq: untilSeq)
        } else if let at {
            state = try logbook.state(of: job, asOf: at.timestamp)
        } else {
            state = logbook.state(of: job)
        }
        guard let state else { throw CLIError("no such job: \(job.printable)") }
        if json {
            Terminal.line(state.json)
        } else {
            Terminal.write(StatusCommand.render(state, now: Logbook.systemClock(), colour: color.enabled))
        }
    }

    /// The state as aligned lines; times also as ages relative to `now` ("26h ago").
    static func render(_ s: JobState, now: Timestamp, colour: Bool = false) -> String {
        func t(_ v: Timestamp?) -> String { v.map { "\($0.rfc3339) (\(Terminal.age($0, now: now)))" } ?? "-" }
        var lines: [(String, String)] = [
            ("job", s.job),
            ("status", s.status.name + (s.terminal ? (s.finalized ? " (terminal, finalized)" : " (terminal, not finalized)") : "")),
            ("decided by", s.decidedBy.map { "seq \($0)" + (s.decidedReason.map { " (\($0))" } ?? "") } ?? "-"),
            ("version", String(s.version)),
        ]
        if let claim = s.finalizing {
            lines.append(("finalizing", "claimed by \(claim.holder) at \(claim.at.rfc3339) (seq \(claim.seq))"))
        }
        lines += [
            ("attempt", s.attempt == 0 ? "none yet" : "\(s.attempt) on \(s.node ?? "an unnamed node")"),
            ("refs", s.refs.isEmpty ? "-" : s.refs.joined(separator: ", ")),
            ("created", t(s.createdAt)),
            ("attempt started", t(s.attemptStartedAt)),
            ("last heartbeat", t(s.lastHeartbeatAt)),
            ("last progress", t(s.lastProgressAt) + (s.index.map { " (index \($0))" } ?? "")),
            ("anomalies", String(s.anomalyCount)),
        ]
        for a in s.anomalies { lines.append(("", "seq \(a.seq): \(a.message)")) }
        let width = lines.map(\.0.count).max() ?? 0
        return lines.map { k, v in
            var text = v.printable
            // The status word in its colour (after escaping, so the colour codes are ours alone).
            if k == "status", colour, let style = Terminal.style(of: s.status) {
                text = Terminal.styled(s.status.name, style, enabled: true) + text.dropFirst(s.status.name.count)
            }
            return (k.isEmpty ? "" : k + ":").padding(width + 2) + text
        }.joined(separator: "\n") + "\n"
    }
}

extension String {
    func padding(_ width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }
}
