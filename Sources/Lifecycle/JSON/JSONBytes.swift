/// Writing JSON text as bytes, for encoders that never need a `String` (export streams millions of
/// events). `JSONText.quoted` and `Timestamp.rfc3339` are built on it, so every event line and
/// every timestamp Logbook prints has one encoding.
public struct JSONBytes: Sendable {
    public var bytes: [UInt8] = []

    public init(capacity: Int = 0) { bytes.reserveCapacity(capacity) }

    public var count: Int { bytes.count }

    public mutating func removeAll() { bytes.removeAll(keepingCapacity: true) }

    /// Appends `text` as it is (it must already be valid JSON, or plain ASCII punctuation).
    public mutating func append(raw text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    public mutating func append(raw text: UnsafeRawBufferPointer) { bytes.append(contentsOf: text) }

    /// Appends valid UTF-8 as a JSON string literal, quotes included: `"` and `\` escaped, control
    /// characters as `\n`, `\r`, `\t` or `\u00XX`, everything else (multi-byte characters too) as is.
    public mutating func appendQuoted(_ text: UnsafeRawBufferPointer) {
        bytes.append(UInt8(ascii: "\""))
        var start = 0
        for (i, byte) in text.enumerated() where byte < 0x20 || byte == 0x22 || byte == 0x5C {
            bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: text[start..<i]))
            start = i + 1
            bytes.append(UInt8(ascii: "\\"))
            switch byte {
            case 0x22, 0x5C: bytes.append(byte)
            case 0x0A: bytes.append(UInt8(ascii: "n"))
            case 0x0D: bytes.append(UInt8(ascii: "r"))
            case 0x09: bytes.append(UInt8(ascii: "t"))
            default:
                bytes.append(contentsOf: [UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0")])
                bytes.append(JSONBytes.hexDigit(byte >> 4))
                bytes.append(JSONBytes.hexDigit(byte & 0xF))
            }
        }
        bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: text[start...]))
        bytes.append(UInt8(ascii: "\""))
    }

    public mutating func appendQuoted(_ text: String) {
        var text = text
        text.withUTF8 { appendQuoted(UnsafeRawBufferPointer($0)) }
    }

    /// Appends `value` in decimal.
    public mutating func appendDecimal(_ value: UInt64) {
        if value < 10 {
            bytes.append(UInt8(ascii: "0") + UInt8(value))
            return
        }
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var v = value
            var i = 20
            while v > 0 {
                i -= 1
                digits[i] = UInt8(ascii: "0") + UInt8(v % 10)
                v /= 10
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: digits[i...]))
        }
    }

    /// Appends `value` in decimal, left-padded with zeros to `width` digits (a minus sign first
    /// for a negative value, as a year before 1 BC would need).
    mutating func appendPadded(_ value: Int, width: Int) {
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        let magnitude = value.magnitude
        var divisor: UInt = 1
        for _ in 1..<width { divisor *= 10 }
        if magnitude / 10 >= divisor {  // wider than `width`: all its digits
            appendDecimal(UInt64(magnitude))
            return
        }
        var v = magnitude
        while divisor > 0 {
            bytes.append(UInt8(ascii: "0") + UInt8(v / divisor))
            v %= divisor
            divisor /= 10
        }
    }

    /// Appends `time` as RFC 3339 in UTC with `Z`, quotes not included; fractional seconds appear
    /// only when non-zero, as 3 or 6 digits.
    public mutating func appendRFC3339(_ time: Timestamp) {
        let secs = Timestamp.floorDivide(time.microseconds, by: 1_000_000)
        let micros = Int(time.microseconds &- secs &* 1_000_000)  // in 0..<1_000_000, exact for every Int64
        let days = Timestamp.floorDivide(secs, by: 86_400)
        let secOfDay = Int(secs - days * 86_400)
        let (y, m, d) = Timestamp.civilFromDays(Int(days))
        appendPadded(y, width: 4)
        bytes.append(UInt8(ascii: "-"))
        appendPadded(m, width: 2)
        bytes.append(UInt8(ascii: "-"))
        appendPadded(d, width: 2)
        bytes.append(UInt8(ascii: "T"))
        appendPadded(secOfDay / 3600, width: 2)
        bytes.append(UInt8(ascii: ":"))
        appendPadded(secOfDay / 60 % 60, width: 2)
        bytes.append(UInt8(ascii: ":"))
        appendPadded(secOfDay % 60, width: 2)
        if micros != 0 {
            bytes.append(UInt8(ascii: "."))
            if micros % 1000 == 0 { appendPadded(micros / 1000, width: 3) } else { appendPadded(micros, width: 6) }
        }
        bytes.append(UInt8(ascii: "Z"))
    }

    static func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
    }
}
