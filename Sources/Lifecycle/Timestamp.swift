/// A point in time: microseconds since 1970-01-01T00:00:00Z.
///
/// Logbook stores and compares times at microsecond precision; RFC 3339 text with finer fractions
/// is truncated to microseconds. Offsets are accepted and normalised to UTC.
public struct Timestamp: Hashable, Comparable, Sendable {
    public var microseconds: Int64

    public init(microseconds: Int64) { self.microseconds = microseconds }

    public init(seconds: Int64) { self.microseconds = seconds * 1_000_000 }

    public static func < (a: Timestamp, b: Timestamp) -> Bool { a.microseconds < b.microseconds }

    public func adding(microseconds delta: Int64) -> Timestamp {
        Timestamp(microseconds: microseconds &+ delta)
    }
}

extension Timestamp: CustomStringConvertible {
    public var description: String { rfc3339 }
}
