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
        let hex = String(high, radix: 16).leftPadded(16) + String(low, radix: 16).leftPadded(16)
        let c = Array(hex)
        return String(c[0..<8]) + "-" + String(c[8..<12]) + "-" + String(c[12..<16]) + "-" + String(c[16..<20]) + "-"
            + String(c[20..<32])
    }

    public static func < (a: EventID, b: EventID) -> Bool { (a.high, a.low) < (b.high, b.low) }
}

extension String {
    fileprivate func leftPadded(_ width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
