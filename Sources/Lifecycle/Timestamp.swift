/// A point in time: microseconds since 1970-01-01T00:00:00Z.
///
/// Logbook stores and compares times at microsecond precision; RFC 3339 text with finer fractions
/// is truncated to microseconds. Offsets are accepted and normalised to UTC.
public struct Timestamp: Hashable, Comparable, Sendable {
    public var microseconds: Int64

    public init(microseconds: Int64) { self.microseconds = microseconds }

    /// Whole seconds; saturates at the representable range (about ±292,000 years) instead of trapping.
    public init(seconds: Int64) {
        let (m, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000)
        self.microseconds = overflow ? (seconds < 0 ? .min : .max) : m
    }

    public static func < (a: Timestamp, b: Timestamp) -> Bool { a.microseconds < b.microseconds }

    /// Saturating: times at the ends of the range stay there rather than wrapping or trapping, so a
    /// client's huge duration ("silent for 100000000d") gives an answer, never a crash.
    public func adding(microseconds delta: Int64) -> Timestamp {
        let (sum, overflow) = microseconds.addingReportingOverflow(delta)
        return Timestamp(microseconds: overflow ? (delta < 0 ? .min : .max) : sum)
    }

    /// The times RFC 3339 can write (years 0000 to 9999): an event's `at` must lie here, so every
    /// stored event can be exported and ingested again.
    public static let rfc3339Range =
        Timestamp(microseconds: -62_167_219_200_000_000)...Timestamp(microseconds: 253_402_300_799_999_999)

    /// `value / divisor` rounded towards negative infinity, for any value (no overflow at Int64.min).
    /// Always inlined: with a constant divisor the division becomes a multiplication (export formats a
    /// timestamp per event).
    @inlinable @inline(__always) static func floorDivide(_ value: Int64, by divisor: Int64) -> Int64 {
        value >= 0 ? value / divisor : -((-(value + 1)) / divisor) - 1
    }

    /// `self - delta`, saturating like `adding`.
    public func subtracting(microseconds delta: Int64) -> Timestamp {
        let (difference, overflow) = microseconds.subtractingReportingOverflow(delta)
        return Timestamp(microseconds: overflow ? (delta > 0 ? .min : .max) : difference)
    }
}

extension Timestamp: CustomStringConvertible {
    public var description: String { rfc3339 }
}
