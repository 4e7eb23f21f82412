import Logbook

/// A client's input the service refused: answered 400 with a message naming the parameter, header
/// or path segment. Pure parsing, no I/O, so every rule has a unit test and a fuzz target.
struct BadRequest: Error, Equatable, CustomStringConvertible {
    var message: String
    init(_ message: String) { self.message = message }
    var description: String { message }
}

enum HTTPInput {
    /// Percent-decodes one path segment (RFC 3986 §2.1): `caf%C3%A9` is `café`, `a%20b` is `a b`.
    /// A `%` not followed by two hex digits, or bytes that are not UTF-8, are refused.
    static func percentDecoded(_ text: Substring, what: String) throws(BadRequest) -> String {
        guard text.utf8.contains(UInt8(ascii: "%")) else { return String(text) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var i = text.utf8.startIndex
        let end = text.utf8.endIndex
        while i < end {
            let b = text.utf8[i]
            guard b == UInt8(ascii: "%") else {
                bytes.append(b)
                i = text.utf8.index(after: i)
                continue
            }
            let h = text.utf8.index(after: i)
            guard h < end, text.utf8.index(after: h) < end, let hi = hex(text.utf8[h]),
                let lo = hex(text.utf8[text.utf8.index(after: h)])
            else { throw BadRequest("\(what): \"%\" must be followed by two hex digits") }
            bytes.append(hi << 4 | lo)
            i = text.utf8.index(i, offsetBy: 3)
        }
        guard let decoded = String(validating: bytes, as: UTF8.self) else {
            throw BadRequest("\(what): the percent-decoded bytes are not UTF-8")
        }
        return decoded
    }

    private static func hex(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// The query's parameters, percent-decoded, in order. Any name outside `allowed` is refused,
    /// and so is a repeated one unless `repeatable` lists it.
    static func query(
        _ raw: Substring, allowed: [String], repeatable: Set<String> = []
    ) throws(BadRequest) -> [(name: String, value: String)] {
        var result: [(name: String, value: String)] = []
        for pair in raw.split(separator: "&", omittingEmptySubsequences: true) {
            let eq = pair.firstIndex(of: "=")
            let name = try percentDecoded(pair[..<(eq ?? pair.endIndex)], what: "query parameter name")
            guard allowed.contains(where: { $0.hasSameBytes(as: name) }) else {
                let known = allowed.isEmpty ? "this endpoint takes none" : "known: " + allowed.joined(separator: ", ")
                throw BadRequest("unknown query parameter \"\(name)\" (\(known))")
            }
            if !repeatable.contains(name), result.contains(where: { $0.name == name }) {
                throw BadRequest("\(name): given more than once")
            }
            var value = ""
            if let eq { value = try percentDecoded(pair[pair.index(after: eq)...], what: name) }
            result.append((name, value))
        }
        return result
    }

    /// A sequence number (`after`, `Last-Event-ID`): decimal digits only, at most UInt64.max.
    static func seq(_ text: String, what: String) throws(BadRequest) -> UInt64 {
        guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), let n = UInt64(text) else {
            throw BadRequest("\(what): expected a seq, a whole number from 0 to \(UInt64.max), got \"\(text)\"")
        }
        return n
    }

    /// A positive count (`limit`).
    static func positive(_ text: String, what: String) throws(BadRequest) -> Int {
        guard text.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), let n = Int(text), n >= 1 else {
            throw BadRequest("\(what): expected a whole number >= 1, got \"\(text)\"")
        }
        return n
    }

    /// `If-Match`: exactly one version, bare (`3`) or as a strong entity tag (`"3"`). Weak tags,
    /// lists and `*` are refused: the header guards one job's version, nothing vaguer.
    static func ifMatch(_ values: [String]) throws(BadRequest) -> UInt64? {
        guard let first = values.first else { return nil }
        guard values.count == 1 else { throw BadRequest("If-Match: give exactly one version, not \(values.count) headers") }
        var text = Substring(first.trimmingSpaces)
        if text.hasPrefix("\"") {
            guard text.count >= 2, text.hasSuffix("\"") else {
                throw BadRequest("If-Match: unbalanced quotes in \"\(first)\"")
            }
            text = text.dropFirst().dropLast()
        }
        guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), let version = UInt64(text) else {
            throw BadRequest("If-Match: expected one version, such as 3 or \"3\", got \"\(first)\"")
        }
        return version
    }
}

extension String {
    /// Without leading and trailing spaces and tabs (HTTP's optional whitespace).
    var trimmingSpaces: Substring {
        var s = self[...]
        while let c = s.first, c == " " || c == "\t" { s = s.dropFirst() }
        while let c = s.last, c == " " || c == "\t" { s = s.dropLast() }
        return s
    }
}
