/// A small strict JSON reader (RFC 8259) over UTF-8 bytes.
///
/// It exists so that an event's `data` can be validated yet kept byte-for-byte verbatim, and so an
/// ingest line's fields can be checked with precise messages. Nesting is limited, so hostile input
/// cannot exhaust the stack.
public enum JSONScanner {
    public static let maxDepth = 256

    /// A top-level value of an object member.
    public enum Value: Sendable, Equatable {
        case string(String)
        /// The number's text, exactly as written.
        case number(String)
        case bool(Bool)
        case null
        /// Nested object or array: its text, verbatim.
        case object(String)
        case array(String)

        /// The JSON type name, for messages.
        public var typeName: String {
            switch self {
            case .string: "a string"
            case .number: "a number"
            case .bool: "a boolean"
            case .null: "null"
            case .object: "an object"
            case .array: "an array"
            }
        }
    }

    public struct Failure: Error, Sendable, Equatable, CustomStringConvertible {
        public var offset: Int
        public var message: String
        public var description: String { "invalid JSON at byte \(offset + 1): \(message)" }
    }

    /// Whether `bytes` is exactly one JSON object (surrounding whitespace allowed).
    /// `checkUTF8: false` is for bytes taken from a Swift `String`, which is valid UTF-8 already.
    public static func isObject(_ bytes: [UInt8], checkUTF8: Bool = true) -> Bool {
        bytes.withUnsafeBytes { isObject($0) } && (!checkUTF8 || String(validating: bytes, as: UTF8.self) != nil)
    }

    /// Whether `bytes` is exactly one JSON object, read in place (the caller checks UTF-8).
    public static func isObject(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var reader = Reader(bytes: bytes)
        reader.skipSpace()
        guard reader.peek == UInt8(ascii: "{"), (try? reader.skipValue(depth: 0)) != nil else { return false }
        reader.skipSpace()
        return reader.pos == bytes.count
    }

    /// The raw bytes of each element of the JSON array in `bytes` (each validated as JSON).
    public static func arrayElements(of bytes: [UInt8]) throws(Failure) -> [[UInt8]] {
        var reader = Reader(bytes: bytes)
        reader.skipSpace()
        guard reader.peek == UInt8(ascii: "[") else { throw reader.fail("expected a JSON array") }
        reader.pos += 1
        var elements: [[UInt8]] = []
        reader.skipSpace()
        if reader.peek == UInt8(ascii: "]") {
            reader.pos += 1
        } else {
            while true {
                reader.skipSpace()
                let start = reader.pos
                try reader.skipValue(depth: 1)
                elements.append(Array(bytes[start..<reader.pos]))
                reader.skipSpace()
                if reader.peek == UInt8(ascii: ",") {
                    reader.pos += 1
                    continue
                }
                guard reader.peek == UInt8(ascii: "]") else { throw reader.fail("expected ',' or ']'") }
                reader.pos += 1
                break
            }
        }
        reader.skipSpace()
        guard reader.pos == bytes.count else { throw reader.fail("unexpected text after the array") }
        return elements
    }

    /// The members of the JSON object in `bytes`, in order. Duplicate keys are an error.
    public static func members(of bytes: [UInt8]) throws(Failure) -> [(key: String, value: Value)] {
        var reader = Reader(bytes: bytes)
        reader.skipSpace()
        guard reader.peek == UInt8(ascii: "{") else { throw reader.fail("expected a JSON object") }
        reader.pos += 1
        var result: [(key: String, value: Value)] = []
        // Keys seen so far, by their bytes: a set, so checking duplicates stays linear in the body.
        var seen: Set<ExactID> = []
        reader.skipSpace()
        if reader.peek == UInt8(ascii: "}") {
            reader.pos += 1
        } else {
            while true {
                reader.skipSpace()
                guard reader.peek == UInt8(ascii: "\"") else { throw reader.fail("expected a member name") }
                let keyAt = reader.pos
                let key = try reader.string()
                if !seen.insert(ExactID(key)).inserted {
                    throw Failure(offset: keyAt, message: "duplicate member \"\(key)\"")
                }
                reader.skipSpace()
                guard reader.peek == UInt8(ascii: ":") else { throw reader.fail("expected ':'") }
                reader.pos += 1
                reader.skipSpace()
                let value = try reader.topValue()
                result.append((key, value))
                reader.skipSpace()
                if reader.peek == UInt8(ascii: ",") {
                    reader.pos += 1
                    continue
                }
                guard reader.peek == UInt8(ascii: "}") else { throw reader.fail("expected ',' or '}'") }
                reader.pos += 1
                break
            }
        }
        reader.skipSpace()
        guard reader.pos == bytes.count else { throw reader.fail("unexpected text after the object") }
        return result
    }

    /// Generic over the byte container: a `[UInt8]` of input, or record bytes read in place.
    struct Reader<Bytes: RandomAccessCollection> where Bytes.Element == UInt8, Bytes.Index == Int {
        let bytes: Bytes
        var pos = 0

        var peek: UInt8? { pos < bytes.count ? bytes[pos] : nil }

        func fail(_ message: String) -> Failure {
            Failure(offset: pos, message: pos < bytes.count ? message : message + " (end of input)")
        }

        mutating func skipSpace() {
            while pos < bytes.count {
                switch bytes[pos] {
                case 0x20, 0x09, 0x0A, 0x0D: pos += 1
                default: return
                }
            }
        }

        mutating func topValue() throws(Failure) -> Value {
            guard let c = peek else { throw fail("expected a value") }
            switch c {
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                let start = pos
                try skipValue(depth: 0)
                let text = String(decoding: bytes[start..<pos], as: UTF8.self)
                return c == UInt8(ascii: "{") ? .object(text) : .array(text)
            case UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "n"):
                let start = pos
                try literal()
                switch bytes[start] {
                case UInt8(ascii: "t"): return .bool(true)
                case UInt8(ascii: "f"): return .bool(false)
                default: return .null
                }
            default:
                let start = pos
                try number()
                return .number(String(decoding: bytes[start..<pos], as: UTF8.self))
            }
        }

        mutating func skipValue(depth: Int) throws(Failure) {
            guard depth < JSONScanner.maxDepth else { throw fail("nested deeper than \(JSONScanner.maxDepth)") }
            skipSpace()
            guard let c = peek else { throw fail("expected a value") }
            switch c {
            case UInt8(ascii: "\""): try skipString()
            case UInt8(ascii: "{"):
                pos += 1
                skipSpace()
                if peek == UInt8(ascii: "}") { pos += 1; return }
                while true {
                    skipSpace()
                    guard peek == UInt8(ascii: "\"") else { throw fail("expected a member name") }
                    try skipString()
                    skipSpace()
                    guard peek == UInt8(ascii: ":") else { throw fail("expected ':'") }
                    pos += 1
                    try skipValue(depth: depth + 1)
                    skipSpace()
                    if peek == UInt8(ascii: ",") { pos += 1; continue }
                    guard peek == UInt8(ascii: "}") else { throw fail("expected ',' or '}'") }
                    pos += 1
                    return
                }
            case UInt8(ascii: "["):
                pos += 1
                skipSpace()
                if peek == UInt8(ascii: "]") { pos += 1; return }
                while true {
                    try skipValue(depth: depth + 1)
                    skipSpace()
                    if peek == UInt8(ascii: ",") { pos += 1; continue }
                    guard peek == UInt8(ascii: "]") else { throw fail("expected ',' or ']'") }
                    pos += 1
                    return
                }
            case UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "n"): try literal()
            default: try number()
            }
        }

        mutating func literal() throws(Failure) {
            for word in ["true", "false", "null"] {
                let w = Array(word.utf8)
                if pos + w.count <= bytes.count, Array(bytes[pos..<(pos + w.count)]) == w {
                    pos += w.count
                    return
                }
            }
            throw fail("unexpected character")
        }

        mutating func number() throws(Failure) {
            let start = pos
            if peek == UInt8(ascii: "-") { pos += 1 }
            guard let first = peek, first >= 48, first <= 57 else {
                pos = start
                throw fail("unexpected character")
            }
            if first == 48 {
                pos += 1
            } else {
                while let d = peek, d >= 48, d <= 57 { pos += 1 }
            }
            if peek == UInt8(ascii: ".") {
                pos += 1
                guard let d = peek, d >= 48, d <= 57 else { throw fail("expected a digit after '.'") }
                while let d = peek, d >= 48, d <= 57 { pos += 1 }
            }
            if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
                pos += 1
                if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { pos += 1 }
                guard let d = peek, d >= 48, d <= 57 else { throw fail("expected a digit in the exponent") }
                while let d = peek, d >= 48, d <= 57 { pos += 1 }
            }
        }

        /// Skips a string starting at the opening quote, checking its escapes but building nothing.
        /// (UTF-8 validity of raw bytes is the caller's check, done once for the whole input.)
        mutating func skipString() throws(Failure) {
            pos += 1
            while pos < bytes.count {
                let c = bytes[pos]
                if c == UInt8(ascii: "\"") { pos += 1; return }
                if c < 0x20 { throw fail("control character in a string") }
                if c == UInt8(ascii: "\\") {
                    pos += 1
                    guard let e = peek else { break }
                    switch e {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                        UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                        pos += 1
                    case UInt8(ascii: "u"):
                        pos += 1
                        _ = try hex4()
                    default: throw fail("invalid escape")
                    }
                    continue
                }
                pos += 1
            }
            throw fail("unterminated string")
        }

        /// Reads a string starting at the opening quote and returns it unescaped.
        mutating func string() throws(Failure) -> String {
            pos += 1
            var out: [UInt8] = []
            while true {
                guard let c = peek else { throw fail("unterminated string") }
                pos += 1
                if c == UInt8(ascii: "\"") { break }
                if c < 0x20 { pos -= 1; throw fail("control character in a string") }
                if c != UInt8(ascii: "\\") {
                    out.append(c)
                    continue
                }
                guard let e = peek else { throw fail("unterminated escape") }
                pos += 1
                switch e {
                case UInt8(ascii: "\""): out.append(0x22)
                case UInt8(ascii: "\\"): out.append(0x5C)
                case UInt8(ascii: "/"): out.append(0x2F)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if (0xD800..<0xDC00).contains(scalar) {
                        guard peek == UInt8(ascii: "\\"), pos + 1 < bytes.count, bytes[pos + 1] == UInt8(ascii: "u")
                        else { throw fail("unpaired surrogate") }
                        pos += 2
                        let low = try hex4()
                        guard (0xDC00..<0xE000).contains(low) else { throw fail("unpaired surrogate") }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00..<0xE000).contains(scalar) {
                        throw fail("unpaired surrogate")
                    }
                    guard let u = Unicode.Scalar(scalar) else { throw fail("invalid \\u escape") }
                    out.append(contentsOf: Array(String(Character(u)).utf8))
                default:
                    pos -= 1
                    throw fail("invalid escape")
                }
            }
            guard let s = String(validating: out, as: UTF8.self) else { throw fail("invalid UTF-8 in a string") }
            return s
        }

        mutating func hex4() throws(Failure) -> UInt32 {
            guard pos + 4 <= bytes.count else { throw fail("short \\u escape") }
            var v: UInt32 = 0
            for _ in 0..<4 {
                let c = bytes[pos]
                let d: UInt32
                switch c {
                case 48...57: d = UInt32(c - 48)
                case 65...70: d = UInt32(c - 55)
                case 97...102: d = UInt32(c - 87)
                default: throw fail("invalid \\u escape")
                }
                v = v * 16 + d
                pos += 1
            }
            return v
        }
    }
}
