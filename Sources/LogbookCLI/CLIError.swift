import ArgumentParser
import Logbook

/// A one-line failure for the user. ArgumentParser prints it as `Error: <message>` and exits 1.
struct CLIError: Error, CustomStringConvertible {
    var description: String
    init(_ message: String) { description = message }
}

extension ExitCode {
    static let versionConflict = ExitCode(3)
}

/// Parses an RFC 3339 option value or fails naming the option.
func parseTime(_ text: String, option: String) throws -> Timestamp {
    guard let t = Timestamp(rfc3339: text) else {
        throw ValidationError("\(option): not an RFC 3339 time: \"\(text)\" (example: 2026-06-01T10:00:00Z)")
    }
    return t
}

/// Parses a duration option value (90s, 30m, 1h, 2d) or fails naming the option.
func parseDuration(_ text: String, option: String) throws -> Int64 {
    guard let d = Duration(logbookText: text) else {
        throw ValidationError("\(option): not a duration: \"\(text)\" (examples: 90s, 30m, 1h, 2d)")
    }
    return d.wholeMicroseconds
}
