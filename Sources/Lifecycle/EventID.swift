import Synchronization

/// An event's id: 128 bits, written as a UUID (`8-4-4-4-12` hex digits). A client that gives its
/// events ids may retry an append safely: the journal stores each id once and answers a retry with
/// what the first append stored (docs/service.md, "Retries and event ids"). A node of a shared log
/// gives every event one (a random version-4 UUID) when its client gave none; it is the shared
/// log's `event_id`.
public struct EventID: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var high: UInt64
    public var low: UInt64
    public init(high: UInt64, low: UInt64) { (self.high, self.low) = (high, low) }

    /// A version-4 UUID's bits.
    public static func random() -> EventID {
        var g = SystemRandomNumberGenerator()
        let high = (g.next() as UInt64) & ~0xF000 | 0x4000
        let low = (g.next() as UInt64) & ~(0xC000_0000_0000_0000 as UInt64) | 0x8000_0000_0000_0000
        return EventID(high: high, low: low)
    }

    /// A version-7 UUID's bits: the milliseconds since the Unix epoch in the first 48 bits, then
    /// random ones. Ids made one after another sort by time, so the journal's ids table grows at its
    /// end, like its log, instead of at a random page per id (docs/performance.md measures both):
    /// what `RemoteLogbook` gives events that have none.
    ///
    /// Within one process they also increase strictly (RFC 9562's monotonic counter: the 12 bits
    /// after the version count up within a millisecond), so a batch's ids are in order and the
    /// journal appends them to its ids table without a search.
    public static func timeOrdered(unixMilliseconds: UInt64) -> EventID {
        var g = SystemRandomNumberGenerator()
        let candidate = (unixMilliseconds & 0xFFFF_FFFF_FFFF) << 16 | 0x7000 | ((g.next() as UInt64) & 0x03FF)
        let high = lastTimeOrderedHigh.withLock { last -> UInt64 in
            // The same or an earlier millisecond: the next counter value (its 12 bits carry into the
            // time when they overflow, which keeps the order; the version nibble is set again).
            var next = candidate > last ? candidate : last + 1
            if next & 0xF000 != 0x7000 { next = (next & ~0xFFFF) + 0x1_0000 | 0x7000 }
            last = next
            return next
        }
        let low = (g.next() as UInt64) & ~(0xC000_0000_0000_0000 as UInt64) | 0x8000_0000_0000_0000
        return EventID(high: high, low: low)
    }

    private static let lastTimeOrderedHigh = Mutex<UInt64>(0)

    /// The 36 characters of the UUID form, lower case, handed to `body` one by one (no string made).
    @inline(__always)
    public func forEachUUIDCharacter(_ body: (UInt8) -> Void) {
        let digits: StaticString = "0123456789abcdef"
        for i in 0..<32 {
            if i == 8 || i == 12 || i == 16 || i == 20 { body(UInt8(ascii: "-")) }
            let word = i < 16 ? high : low
            let nibble = Int((word >> UInt64(60 - 4 * (i % 16))) & 0xF)
            body(digits.utf8Start[nibble])
        }
    }

    /// Parses the UUID form (`123e4567-e89b-12d3-a456-426614174000`, either case); nil for anything
    /// else (no braces, no URN prefix, no other grouping).
    public init?(uuid text: some StringProtocol) {
        let bytes = Array(text.utf8)
        guard bytes.count == 36 else { return nil }
        var value: (UInt64, UInt64) = (0, 0)
        var digits = 0
        for (i, byte) in bytes.enumerated() {
            if i == 8 || i == 13 || i == 18 || i == 23 {
                guard byte == UInt8(ascii: "-") else { return nil }
                continue
            }
            let nibble: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): nibble = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): nibble = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): nibble = byte - UInt8(ascii: "A") + 10
            default: return nil
            }
            if digits < 16 { value.0 = value.0 << 4 | UInt64(nibble) } else { value.1 = value.1 << 4 | UInt64(nibble) }
            digits += 1
        }
        (high, low) = value
    }

    /// The UUID form, lower case.
    public var description: String {
        String(unsafeUninitializedCapacity: 36) { buffer in
            var n = 0
            forEachUUIDCharacter { c in
                buffer[n] = c
                n += 1
            }
            return n
        }
    }

    public static func < (a: EventID, b: EventID) -> Bool { (a.high, a.low) < (b.high, b.low) }
}
