/// Writing JSON text as bytes, for encoders that never need a `String` (export streams millions of
/// events). `JSONText.quoted` and `Timestamp.rfc3339` are built on it, so every event line and
/// every timestamp Logbook prints has one encoding.
///
/// Each append reserves an upper bound of the bytes it can write, writes through a `RawWriter`
/// (plain stores, no per-byte capacity or uniqueness checks), and keeps what it wrote. Every
/// writer operation checks that it stays within the reserved bound.
public struct JSONBytes: Sendable {
    /// What was written is `storage[..<count]`. The rest is space earlier reservations filled (its
    /// bytes are stale): a reservation fills new space only past the high-water mark, so writing a
    /// line does not first zero its worst case.
    private var storage: [UInt8] = []
    public private(set) var count = 0
    /// The civil date of the last day a timestamp fell on (`appendEventLine`): consecutive events
    /// mostly share their day, so the calendar arithmetic is done once a day, not once an event.
    private var lastDay: (days: Int64, civil: (y: Int, m: Int, d: Int)) = (.min, (0, 0, 0))

    public init(capacity: Int = 0) { storage.reserveCapacity(capacity) }

    /// A copy of what was written.
    public var bytes: [UInt8] { Array(storage[..<count]) }

    /// What was written, in place.
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try storage.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[..<count])) }
    }

    /// What was written, as text (it is UTF-8: every writer keeps it so).
    public var text: String { withUnsafeBytes { String(decoding: $0, as: UTF8.self) } }

    public mutating func removeAll() { count = 0 }

    /// Appends `text` as it is (it must already be valid JSON, or plain ASCII punctuation).
    public mutating func append(raw text: StaticString) {
        write(bound: text.utf8CodeUnitCount) { $0.raw(text) }
    }

    public mutating func append(raw text: UnsafeRawBufferPointer) { write(bound: text.count) { $0.raw(text) } }

    /// Appends valid UTF-8 as a JSON string literal, quotes included: `"` and `\` escaped, control
    /// characters as `\n`, `\r`, `\t` or `\u00XX`, everything else (multi-byte characters too) as is.
    public mutating func appendQuoted(_ text: UnsafeRawBufferPointer) {
        write(bound: RawWriter.quotedBound(text.count)) { $0.quoted(text) }
    }

    public mutating func appendQuoted(_ text: String) {
        write(bound: RawWriter.quotedBound(text.utf8.count)) { $0.quoted(text) }
    }

    /// Appends `value` in decimal.
    public mutating func appendDecimal(_ value: UInt64) {
        write(bound: RawWriter.decimalBound) { $0.decimal(value) }
    }

    /// Appends `time` as RFC 3339 in UTC with `Z`, quotes not included; fractional seconds appear
    /// only when non-zero, as 3 or 6 digits.
    public mutating func appendRFC3339(_ time: Timestamp) {
        write(bound: RawWriter.rfc3339Bound) { $0.rfc3339(time) }
    }

    /// The year, month and day `days` after 1970-01-01, remembered for the next call.
    mutating func civilDate(days: Int64) -> (y: Int, m: Int, d: Int) {
        if lastDay.days != days { lastDay = (days, Timestamp.civilFromDays(Int(days))) }
        return lastDay.civil
    }

    /// Reserves `bound` bytes at the end, lets `body` write at most that many, keeps what it wrote.
    mutating func write(bound: Int, _ body: (inout RawWriter) -> Void) {
        if storage.count - count < bound { storage.append(contentsOf: repeatElement(0, count: bound - (storage.count - count))) }
        let start = count
        count += storage.withUnsafeMutableBytes { raw in
            var writer = RawWriter(base: raw.baseAddress! + start, limit: bound)
            body(&writer)
            return writer.count
        }
    }
}

/// Stores into space reserved in advance (see `JSONBytes.write`); each operation checks the bound.
struct RawWriter {
    private let base: UnsafeMutableRawPointer
    private let limit: Int
    private(set) var count = 0

    init(base: UnsafeMutableRawPointer, limit: Int) {
        self.base = base
        self.limit = limit
    }

    /// The most bytes `quoted` writes for `n` bytes of text (each byte at worst `\u00XX`).
    static func quotedBound(_ n: Int) -> Int { 2 + 6 * n }
    static let decimalBound = 20
    /// `-290308-12-21T19:59:05.224192Z` is the longest (Int64.min microseconds).
    static let rfc3339Bound = 32

    @inline(__always)
    private mutating func room(_ n: Int) {
        precondition(count + n <= limit, "JSON writer past its reserved bound")
    }

    @inline(__always)
    mutating func byte(_ b: UInt8) {
        room(1)
        base.storeBytes(of: b, toByteOffset: count, as: UInt8.self)
        count += 1
    }

    @inline(__always)
    mutating func raw(_ bytes: UnsafeRawBufferPointer) {
        guard let from = bytes.baseAddress, bytes.count > 0 else { return }
        room(bytes.count)
        (base + count).copyMemory(from: from, byteCount: bytes.count)
        count += bytes.count
    }

    mutating func raw(_ text: StaticString) {
        raw(UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    /// A `String`'s bytes. Named apart from `raw(_: StaticString)` on purpose: a literal argument
    /// would otherwise pick the `String` overload and pay for a string per key written.
    mutating func raw(string text: String) {
        var text = text
        text.withUTF8 { raw(UnsafeRawBufferPointer($0)) }
    }

    mutating func quoted(_ text: String) {
        var text = text
        text.withUTF8 { quoted(UnsafeRawBufferPointer($0)) }
    }

    mutating func quoted(_ text: UnsafeRawBufferPointer) {
        byte(UInt8(ascii: "\""))
        var start = 0
        for (i, b) in text.enumerated() where b < 0x20 || b == 0x22 || b == 0x5C {
            raw(UnsafeRawBufferPointer(rebasing: text[start..<i]))
            start = i + 1
            byte(UInt8(ascii: "\\"))
            switch b {
            case 0x22, 0x5C: byte(b)
            case 0x0A: byte(UInt8(ascii: "n"))
            case 0x0D: byte(UInt8(ascii: "r"))
            case 0x09: byte(UInt8(ascii: "t"))
            default:
                byte(UInt8(ascii: "u"))
                byte(UInt8(ascii: "0"))
                byte(UInt8(ascii: "0"))
                byte(RawWriter.hexDigit(b >> 4))
                byte(RawWriter.hexDigit(b & 0xF))
            }
        }
        raw(UnsafeRawBufferPointer(rebasing: text[start...]))
        byte(UInt8(ascii: "\""))
    }

    mutating func decimal(_ value: UInt64) {
        var digits = 1
        var v = value
        while v >= 10 {
            v /= 10
            digits += 1
        }
        room(digits)
        v = value
        for i in stride(from: count + digits - 1, through: count, by: -1) {
            base.storeBytes(of: UInt8(ascii: "0") + UInt8(v % 10), toByteOffset: i, as: UInt8.self)
            v /= 10
        }
        count += digits
    }

    /// `value` in decimal, left-padded with zeros to `width` digits (a minus sign first for a
    /// negative value, as a year before 1 BC would need).
    mutating func padded(_ value: Int, width: Int) {
        if value < 0 { byte(UInt8(ascii: "-")) }
        let magnitude = UInt64(value.magnitude)
        var digits = 1
        var v = magnitude
        while v >= 10 {
            v /= 10
            digits += 1
        }
        for _ in digits..<max(width, digits) { byte(UInt8(ascii: "0")) }
        decimal(magnitude)
    }

    mutating func rfc3339(_ time: Timestamp) {
        rfc3339(time) { Timestamp.civilFromDays(Int($0)) }
    }

    /// `time`, with `civil` giving the year, month and day of a day number (days after 1970-01-01).
    @inline(__always)
    mutating func rfc3339(_ time: Timestamp, civil: (Int64) -> (y: Int, m: Int, d: Int)) {
        let secs = Timestamp.floorDivide(time.microseconds, by: 1_000_000)
        let micros = Int(time.microseconds &- secs &* 1_000_000)  // in 0..<1_000_000, exact for every Int64
        let days = Timestamp.floorDivide(secs, by: 86_400)
        let secOfDay = Int(secs - days * 86_400)
        let (y, m, d) = civil(days)
        if (0...9999).contains(y) { two(y / 100); two(y % 100) } else { padded(y, width: 4) }
        byte(UInt8(ascii: "-"))
        two(m)
        byte(UInt8(ascii: "-"))
        two(d)
        byte(UInt8(ascii: "T"))
        two(secOfDay / 3600)
        byte(UInt8(ascii: ":"))
        two(secOfDay / 60 % 60)
        byte(UInt8(ascii: ":"))
        two(secOfDay % 60)
        if micros != 0 {
            byte(UInt8(ascii: "."))
            if micros % 1000 == 0 {
                let millis = micros / 1000
                byte(UInt8(ascii: "0") + UInt8(millis / 100))
                two(millis % 100)
            } else {
                two(micros / 10_000)
                two(micros / 100 % 100)
                two(micros % 100)
            }
        }
        byte(UInt8(ascii: "Z"))
    }

    /// Two digits of `value` in 0...99.
    @inline(__always)
    private mutating func two(_ value: Int) {
        byte(UInt8(ascii: "0") + UInt8(value / 10))
        byte(UInt8(ascii: "0") + UInt8(value % 10))
    }

    static func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
    }
}
