import ArgumentParser
import Logbook

/// A one-line failure for the user. ArgumentParser prints it as `Error: <message>` and exits 1.
struct CLIError: Error, CustomStringConvertible {
    var description: String
    init(_ message: String) { description = message }
}

extension ExitCode {
    static let versionConflict = ExitCode(3)
    /// The journal's filesystem is full (`EX_TEMPFAIL`: retry once space is freed).
    static let storageFull = ExitCode(75)
    /// A write failed at the journal's device (`EX_IOERR`): the message says whether it was stored.
    static let deviceFailure = ExitCode(74)
}

/// Parses a duration option value (90s, 30m, 1h, 2d) or fails naming the option.
func parseDuration(_ text: String, option: String) throws -> Int64 {
    guard let d = Duration(logbookText: text) else {
        throw ValidationError("\(option): not a duration: \"\(text)\" (examples: 90s, 30m, 1h, 2d)")
    }
    return d.wholeMicroseconds
}
