import ArgumentParser
import Foundation
import JobTimeline
import Logbook

#if canImport(Glibc)
import Glibc
#endif

struct TimelineCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "timeline",
        abstract: "Draw one job's life: attempts, heartbeats, silences, refs, and every ignored event with its reason.",
        discussion: """
            One lane per attempt (node#attempt), one per ref holder, one for the status, on a real time \
            axis; then the events that matter in time order (heartbeats collapsed into runs) and what \
            stands out (split brain, clock skew, an open outbox entry). docs/timeline.md explains the picture.

            Example:
              logbook timeline scan-3
              logbook timeline crawl-hc-6 --lease 10m --width 160
              logbook timeline scan-3 --until-seq 4 --ascii
              logbook timeline scan-3 --html scan-3.html   # one self-contained file for the ticket
            """
    )

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The job id.") var job: String
    @Option(name: .customLong("until-seq"), help: "Time travel: only the job's events up to this seq.") var untilSeq: UInt64?
    @Option(help: "Time travel: only the job's events up to this time (RFC 3339 or e.g. 2h-ago); the axis ends there.") var at: TimeArgument?
    @Option(help: "Expected gap between signs of life; a longer one is drawn as a silence (default: twice the attempt's median gap).")
    var lease: DurationArgument?
    @Option(help: "Columns to fit (default: the terminal's width, else $COLUMNS, else 100).") var width: Int?
    @Option(help: "Colour: auto (on a terminal, unless NO_COLOR is set), always or never.") var color: ColorChoice = .auto
    @Flag(help: "Draw with ASCII only.") var ascii = false
    @Option(help: "Write the timeline as one self-contained HTML file (inline SVG and CSS, no script) instead.")
    var html: String?

    func validate() throws {
        if untilSeq != nil && at != nil { throw ValidationError("use --until-seq or --at, not both") }
        if let width, !(40...1000).contains(width) { throw ValidationError("--width: must be between 40 and 1000, got \(width)") }
    }

    func run() async throws {
        let logbook = try await global.openForReading()
        defer { logbook.close() }
        var history = try logbook.history(of: job)
        if let untilSeq { history = Array(history.prefix { $0.event.seq <= untilSeq }) }
        if let at { history = Array(history.prefix { $0.event.at <= at.timestamp }) }  // as `status --at` folds
        guard !history.isEmpty else { throw CLIError("no such job: \(job.printable)") }
        let layout = TimelineLayout(job: job, history: history, options: .init(lease: lease?.microseconds, end: at?.timestamp))
        if let html {
            let page = HTMLTimeline().document(layout)
            do {
                try Data(page.utf8).write(to: URL(fileURLWithPath: html), options: .atomic)
            } catch {
                throw CLIError("--html: cannot write \(html.printable): \(error.localizedDescription)")
            }
            Terminal.line("wrote the timeline of \(job.printable) to \(html.printable) (\(page.utf8.count) bytes)")
            return
        }
        let renderer = TerminalTimeline(width: width ?? Terminal.columns ?? 100, color: color.enabled, ascii: ascii)
        Terminal.write(renderer.render(layout))
    }
}
