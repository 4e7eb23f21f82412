import ArgumentParser
import Logbook

// Typed command-line values: the parser validates them, `--help` lists the choices from the types
// themselves (they cannot drift), and a bad value shows that command's usage.

extension EventType: ExpressibleByArgument {
    public init?(argument: String) { self.init(name: argument) }
    public static var allValueStrings: [String] { allCases.map(\.name) }
}

extension JobStatus: ExpressibleByArgument {
    public init?(argument: String) { self.init(name: argument) }
    public static var allValueStrings: [String] { allCases.map(\.name) }
}

/// An RFC 3339 time given on the command line (`2026-06-01T10:00:00Z`, offsets and fractions allowed).
struct TimeArgument: ExpressibleByArgument, Sendable {
    var timestamp: Timestamp
    init?(argument: String) { self.init(argument, now: Logbook.systemClock()) }

    /// RFC 3339, or relative to `now`: `now`, or a duration and `-ago` (`2h-ago`, `1d6h-ago`).
    init?(_ text: String, now: Timestamp) {
        if let t = Timestamp(rfc3339: text) {
            timestamp = t
        } else if text == "now" {
            timestamp = now
        } else if text.hasSuffix("-ago"), let d = Duration(logbookText: String(text.dropLast(4))) {
            timestamp = now.subtracting(microseconds: d.wholeMicroseconds)
        } else {
            return nil
        }
    }
    static var defaultValueDescription: String { "an RFC 3339 time (2026-06-01T10:00:00Z), now, or a duration ago (2h-ago)" }
}

/// A duration given on the command line: a whole number and a unit, or several (`90s`, `1h30m`).
struct DurationArgument: ExpressibleByArgument, Sendable {
    var microseconds: Int64
    init?(argument: String) {
        guard let d = Duration(logbookText: argument) else { return nil }
        microseconds = d.wholeMicroseconds
    }
    static var defaultValueDescription: String { "a duration: ms, s, m, h or d, e.g. 90s, 30m, 1h30m" }
}

/// Parsers for whole numbers that also accept a leading minus (so `--index -1` is read as a value
/// and refused with the rule, instead of being taken for an option).
enum WholeNumber {
    static func atLeast<T: FixedWidthInteger & Sendable>(_ minimum: T, _ name: String) -> @Sendable (String) throws -> T {
        { text in
            guard let n = T(text), n >= minimum else {
                throw ValidationError("--\(name) must be an integer >= \(minimum), got \"\(text)\"")
            }
            return n
        }
    }
}

/// `--color auto|always|never`: auto colours only on a terminal, and never when NO_COLOR is set.
enum ColorChoice: String, ExpressibleByArgument, CaseIterable, Sendable {
    case auto, always, never

    var enabled: Bool {
        switch self {
        case .always: true
        case .never: false
        case .auto: Terminal.colourOnStdout
        }
    }
}
