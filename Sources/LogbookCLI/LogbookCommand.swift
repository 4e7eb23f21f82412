import ArgumentParser
import Logbook

@main
struct LogbookCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logbook",
        abstract: "An append-only journal of job lifecycles: record events, replay and explain jobs, keep the journal sound.",
        discussion: """
            The journal is PATH (--journal), else $LOGBOOK_JOURNAL, else ./logbook.journal. \
            Writing commands create it; reading commands open it read-only and work while another \
            process (a service) appends. Durations: 90s, 30m, 1h, 2d. Times: RFC 3339, now, or a duration ago (2h-ago).

            Exit codes: 0 success, 1 error, 3 version conflict, 64 usage error, 75 the journal's \
            filesystem is full (nothing of the refused write was stored; free space and retry).
            """,
        version: LogbookCommand.version,
        subcommands: [
            IngestCommand.self, AppendCommand.self, CancelCommand.self, InterruptCommand.self, FinalizeCommand.self,
            StatusCommand.self, JobsCommand.self, ReplayCommand.self, ExplainCommand.self, TimelineCommand.self,
            TailCommand.self, ExportCommand.self, SnapshotCommand.self, CompactCommand.self, VerifyCommand.self,
            BackupCommand.self, SalvageCommand.self, ArchiveCommand.self, StatsCommand.self, ServeCommand.self, DemoCommand.self,
        ]
    )

    /// `logbook --version`: the release and the on-disk formats it writes (docs/record-format.md).
    static let version = "logbook 0.5.0 (record format 1, snapshot format 2)"

    // Declared here and in every subcommand, so --journal works before or after the subcommand name.
    @OptionGroup var global: GlobalOptions

    /// argument-parser's main, but a full filesystem (`ExitCode.storageFull`) and a failing device
    /// (`ExitCode.deviceFailure`) exit with their own codes, whichever command met them.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asynchronous = command as? AsyncParsableCommand {
                try await asynchronous.run()
            } else {
                try command.run()
            }
        } catch let error as JournalError {
            let code: ExitCode
            switch error {
            case .storageFull: code = .storageFull
            case .writeFailed, .writesStopped, .copyFailed: code = .deviceFailure
            case .idConflict: code = .versionConflict
            default: exit(withError: error)
            }
            Terminal.errorLine("Error: \(error)")
            exit(withError: code)
        } catch {
            exit(withError: error)
        }
    }
}
