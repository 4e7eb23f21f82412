import ArgumentParser
import JobTimeline
import Lifecycle
import Logbook
import LogbookPostgres

struct TailCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tail",
        abstract: "Print events as they are appended, by any process, with what the fold made of each, until interrupted.",
        discussion: """
            Like `journalctl -f`: one line per event (seq, time, job, what it says, and `applied` or \
            `IGNORED: reason`). Works read-only beside a running service; sees other processes' appends \
            within a tenth of a second. Starts after the journal's last event, or after --after SEQ \
            (0: from the first).

            Example:
              logbook tail
              logbook tail --job scan-3 --job task-42
              logbook tail --after 0 --json | jq 'select(.effect == "ignored")'
            """
    )

    @OptionGroup var global: GlobalOptions
    @Option(name: .customLong("job"), help: "Only this job's events (repeatable).") var jobs: [String] = []
    @Option(
        parsing: .unconditional, help: "Start after this seq (default: the last one now).",
        transform: WholeNumber.atLeast(UInt64(0), "after"))
    var after: UInt64?
    @Flag(help: "Print JSON Lines in the shape of `replay --json`.") var json = false

    /// Job states kept to tell each event's effect; past this many, the cache starts over.
    static let cachedJobs = 100_000

    func run() async throws {
        var options = Logbook.Options()
        options.readOnly = true
        options.foreignAppendPollInterval = .milliseconds(100)
        // With a shared log, tail follows it into the replica itself (a node beside it may too).
        let log = try global.postgresURL.map { try PostgresLog(url: $0) }
        if let log {
            options.readOnly = false
            options.snapshotEvery = nil
            options.sharedLog = log
        }
        let logbook = try Logbook.open(at: global.journalPath, options: options)
        defer { logbook.close() }
        if log != nil { try await logbook.catchUp(within: GlobalOptions.catchUpLimit) }
        let wanted = Set(jobs.map { ExactID($0) })
        let colour = Terminal.colourOnStdout
        var states: [ExactID: JobState] = [:]
        let start = after ?? logbook.currentProjections.coveredSeq
        for try await event in logbook.follow(after: start) {
            let key = ExactID(event.event.job)
            if !wanted.isEmpty, !wanted.contains(key) { continue }
            if states.count >= Self.cachedJobs { states = [:] }
            // The state before this event, once per job: later events fold onto it here.
            var state: JobState
            if let known = states[key] {
                state = known
            } else {
                state = try logbook.state(of: event.event.job, throughSeq: event.seq - 1) ?? JobState(job: event.event.job)
            }
            let before = state
            let effect = Fold.apply(event, to: &state)
            states[key] = state
            let entry = TimelineEntry(event: event, effect: effect, stateAfter: state)
            if json {
                Terminal.line(entry.json(previous: before))
                continue
            }
            var what = TimelineLayout.label(event.event).printable
            if let a = event.event.attempt, !event.event.type.opensAttempt { what += " (attempt \(a))" }
            let verdict: (text: String, style: Terminal.Style?)
            if let anomaly = entry.anomaly {
                verdict = ("IGNORED: \(anomaly.message.withoutIgnoredSuffix.printable)", .red)
            } else if state.decidedBy == event.seq {
                verdict = ("decides: \(state.status.name)", .bold)
            } else {
                verdict = ("applied", nil)
            }
            let line = Self.fit(
                head: "\(event.seq)  \(TerminalTimeline.clock(event.at))  ", job: event.event.job.printable, what: what,
                verdict: verdict, width: Terminal.tableWidth, colour: colour)
            Terminal.line(line)
        }
    }

    /// Job ids give way first, down to this many columns.
    static let narrowestJob = 12

    /// One line of human output (`seq  time  job  what  verdict`), fitted to a terminal's `width`:
    /// the job id is cut first (to `narrowestJob` columns), then the verdict (IGNORED and why),
    /// keeping its first word; only then the line as a whole. Cuts end in an ellipsis; styling comes
    /// after cutting, so an escape sequence is never cut.
    static func fit(
        head: String, job: String, what: String, verdict: (text: String, style: Terminal.Style?), width: Int?, colour: Bool
    ) -> String {
        func styled(_ text: String) -> String { verdict.style.map { Terminal.styled(text, $0, enabled: colour) } ?? text }
        var job = job
        func prefix() -> String { head + job + "  " + what + "  " }
        guard let width else { return prefix() + styled(verdict.text) }
        let over = prefix().displayWidth + verdict.text.displayWidth - width
        if over > 0, job.displayWidth > narrowestJob {
            job = job.cut(toColumns: max(narrowestJob, job.displayWidth - over))
        }
        let room = width - prefix().displayWidth
        if verdict.text.displayWidth <= room { return prefix() + styled(verdict.text) }
        let firstWord = verdict.text.prefix { $0 != " " }.count + 2
        if room >= firstWord { return prefix() + styled(verdict.text.cut(toColumns: room)) }
        return (prefix() + verdict.text).cut(toColumns: width)
    }
}
