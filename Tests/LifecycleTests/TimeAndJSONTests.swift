import Lifecycle
import PropertyBased
import Testing

@Suite struct TimestampTests {
    @Test(arguments: [
        ("1970-01-01T00:00:00Z", Int64(0)),
        ("2026-06-01T10:00:00Z", Int64(1_780_308_000_000_000)),
        ("2026-06-01T10:00:00.5Z", Int64(1_780_308_000_500_000)),
        ("2026-06-01T12:00:00+02:00", Int64(1_780_308_000_000_000)),
        ("2026-06-01t10:00:00.123456789z", Int64(1_780_308_000_123_456)),
        ("1969-12-31T23:59:59.999Z", Int64(-1000)),
    ])
    func parses(text: String, micros: Int64) {
        #expect(Timestamp(rfc3339: text)?.microseconds == micros)
    }

    @Test(arguments: [
        "", "2026-06-01", "2026-06-01T10:00:00", "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z", "2026-06-01T24:00:00Z",
        "2026-06-01T10:00:00.Z", "2026-06-01T10:00:00+0200", "yesterday", "2026-06-01T10:00:00Zjunk",
    ])
    func rejects(text: String) {
        #expect(Timestamp(rfc3339: text) == nil)
    }

    @Test func formatsRoundTrip() {
        for micros: Int64 in [0, 1, 1000, 1_780_308_000_123_456, -1000, 253_402_300_799_000_000] {
            let t = Timestamp(microseconds: micros)
            #expect(Timestamp(rfc3339: t.rfc3339) == t, "\(t.rfc3339)")
        }
        #expect(Timestamp(microseconds: 1_780_308_000_500_000).rfc3339 == "2026-06-01T10:00:00.500Z")
    }

    @Test(arguments: [("90s", Int64(90_000_000)), ("30m", 1_800_000_000), ("1h", 3_600_000_000), ("2d", 172_800_000_000), ("1h30m", 5_400_000_000), ("250ms", 250_000)])
    func durations(text: String, micros: Int64) {
        #expect(Duration(logbookText: text)?.wholeMicroseconds == micros)
    }

    @Test(arguments: ["", "90", "s", "1x", "-5s", "1.5h", "99999999999999999999d"])
    func badDurations(text: String) {
        #expect(Duration(logbookText: text) == nil)
    }
}

@Suite struct JSONLineTests {
    func decode(_ line: String) -> Result<Event, EventDecodingError> {
        Result { () throws(EventDecodingError) -> Event in try Event(jsonLine: Array(line.utf8)) }
    }

    @Test func fullLineDecodesAndDataStaysVerbatim() throws {
        let line = #"{"job":"scan-3","type":"progress","at":"2026-06-01T10:00:00Z","node":"n1","index":7,"attempt":2,"data":{ "file" : "/media/a.mkv", "n":[1, 2.5e3] }}"#
        let e = try decode(line).get()
        #expect(e.job == "scan-3")
        #expect(e.type == .progress)
        #expect(e.index == 7)
        #expect(e.attempt == 2)
        #expect(e.data == #"{ "file" : "/media/a.mkv", "n":[1, 2.5e3] }"#)
        #expect(try decode(e.jsonLine).get() == e)
    }

    @Test(arguments: [
        (#"{"type":"created"}"#, #"missing field "job""#),
        (#"{"job":"a"}"#, #"missing field "type""#),
        (#"{"job":"a","type":"exploded"}"#, #"field "type": unknown event type "exploded""#),
        (#"{"job":"a","type":"created","at":"noon"}"#, #"field "at": not an RFC 3339 time: "noon""#),
        (#"{"job":"a","type":"refAcquired"}"#, #"field "holder": required for refAcquired"#),
        (#"{"job":"a","type":"progress","index":"7"}"#, #"field "index": expected an integer, got a string"#),
        (#"{"job":"a","type":"progress","index":-1}"#, #"field "index": expected an integer >= 0, got -1"#),
        (#"{"job":"a","type":"started","attempt":0}"#, #"field "attempt": expected an integer >= 1, got 0"#),
        (#"{"job":"a","type":"created","data":[1]}"#, #"field "data": expected an object, got an array"#),
        (#"{"job":5,"type":"created"}"#, #"field "job": expected a string, got a number"#),
        (#"{"job":"","type":"created"}"#, #"field "job": must not be empty"#),
        (#"{"job":"a","type":"created","colour":"red"}"#, #"unknown field "colour""#),
        (#"{"job":"a","type":"created""#, "invalid JSON at byte 28: expected ',' or '}' (end of input)"),
        (#"[1,2]"#, "invalid JSON at byte 1: expected a JSON object"),
    ])
    func badLinesNameTheProblem(line: String, message: String) {
        guard case .failure(let error) = decode(line) else {
            Issue.record("accepted: \(line)")
            return
        }
        #expect(error.message == message)
    }

    @Test func invalidUTF8IsRefused() {
        var bytes = Array(#"{"job":"a","type":"created"}"#.utf8)
        bytes[8] = 0xFF
        #expect(throws: EventDecodingError("invalid UTF-8")) { try Event(jsonLine: bytes) }
    }

    @Test func deepNestingIsRefusedNotACrash() {
        let deep = String(repeating: "[", count: 100_000)
        #expect(throws: EventDecodingError.self) { try Event(jsonLine: Array(#"{"job":"a","type":"created","data":{"x":\#(deep)}}"#.utf8)) }
    }
}

@Suite struct IntegralJSONNumberTests {
    @Test(arguments: [("5.0", 5), ("39916799.0", 39916799), ("1e3", 1000), ("2.50e1", 25), ("-0.0", 0), ("1E+2", 100),
                      ("120e-1", 12)] as [(String, Int64)])
    func integersWrittenWithAFractionOrExponentAreIntegers(raw: String, value: Int64) throws {
        let e = try Event(jsonLine: Array(#"{"job":"j","type":"progress","index":\#(raw)}"#.utf8))
        #expect(e.index == UInt64(value))
    }

    @Test(arguments: ["5.5", "1e-1", "1e40", "99999999999999999999", "1.5e0"])
    func otherNumbersAreStillRefused(raw: String) {
        #expect(throws: EventDecodingError.self) {
            try Event(jsonLine: Array(#"{"job":"j","type":"progress","index":\#(raw)}"#.utf8))
        }
    }
}

/// The byte-level encoder behind every event line and timestamp (`JSONBytes`).
@Suite struct JSONBytesTests {
    @Test(arguments: [
        ("plain", #""plain""#), ("a\"b", #""a\"b""#), ("back\\slash", #""back\\slash""#), ("l1\nl2\r\t", #""l1\nl2\r\t""#),
        ("\u{0}\u{1}\u{1F}", #""\u0000\u0001\u001f""#), ("\u{7F}é🚀", "\"\u{7F}é🚀\""),
    ])
    func quotesEscapeOnlyWhatJSONRequires(text: String, quoted: String) {
        #expect(JSONText.quoted(text) == quoted)
    }

    @Test(arguments: [(UInt64(0), "0"), (9, "9"), (10, "10"), (1_000_000, "1000000"), (UInt64.max, "18446744073709551615")])
    func decimals(value: UInt64, text: String) {
        var out = JSONBytes()
        out.appendDecimal(value)
        #expect(String(decoding: out.bytes, as: UTF8.self) == text)
    }

    @Test(arguments: [
        (Int64(0), "1970-01-01T00:00:00Z"), (-1, "1969-12-31T23:59:59.999999Z"),
        (253_402_300_799_000_000, "9999-12-31T23:59:59Z"), (-62_135_596_800_000_000, "0001-01-01T00:00:00Z"),
        (Int64.min, "-290308-12-21T19:59:05.224192Z"), (Int64.max, "294247-01-10T04:00:54.775807Z"),
    ])
    func timestampsFormatEveryInt64WithoutTrapping(micros: Int64, text: String) {
        #expect(Timestamp(microseconds: micros).rfc3339 == text)
    }

    /// The line's reserved bound holds the worst case: every text byte a `\u00XX` escape, both
    /// numbers at their widest, the widest timestamp, the longest type name.
    @Test func theWorstCaseLineFitsItsReservation() {
        let controls = String(repeating: "\u{1}", count: 300)
        let event = Event(
            job: controls, type: .refAcquired, at: Timestamp(microseconds: .min), node: controls, holder: controls,
            reason: controls, index: .max, attempt: .max, data: "{}")
        let line = event.jsonLine
        // Texts 1,200 bytes × 6 plus 4 × 2 quotes; keys 82, type 11, time 30, index 20, attempt 10, data 2.
        #expect(line.utf8.count == 1_200 * 6 + 4 * 2 + 82 + 11 + 30 + 20 + 10 + 2)
        #expect(line.hasSuffix(#","index":18446744073709551615,"attempt":4294967295,"data":{}}"#))
    }

    /// One writer remembers the last day's date and keeps space between lines: lines written one
    /// after another, across days and back, and after `removeAll`, equal each line written alone.
    @Test func linesWrittenInSequenceEqualLinesWrittenAlone() {
        let times: [Int64] = [0, 1, 86_399_999_999, 86_400_000_000, -1, 0, 253_402_300_799_000_000, .min, .max, 5]
        var out = JSONBytes()
        var expected: [UInt8] = []
        for (i, t) in times.enumerated() {
            let event = Event(job: String(repeating: "j", count: i * 7 + 1), type: .heartbeat, at: Timestamp(microseconds: t))
            event.appendJSONLine(to: &out)
            out.append(raw: "\n")
            expected += Array(event.jsonLine.utf8) + [0x0A]
        }
        #expect(out.bytes == expected)
        #expect(out.count == expected.count && out.withUnsafeBytes { Array($0) } == expected)
        out.removeAll()
        let short = Event(job: "k", type: .created, at: Timestamp(microseconds: 86_400_000_000))
        short.appendJSONLine(to: &out)
        #expect(out.text == short.jsonLine, "nothing stale after removeAll")
    }

    /// Characters that need escaping, or are multi-byte, or are plain.
    static let alphabet: [Character] = ["a", "Z", "7", "\"", "\\", "\n", "\r", "\t", "\u{0}", "\u{1}", "\u{1F}", "\u{7F}", "é", "🚀", "/", "<", " "]

    @Test func aViewWritesTheSameLineAsItsEventAndTheLineDecodesBack() async {
        await propertyCheck(input: Gen.int(in: 0...1_000_000).array(of: 40)) { seeds in
            func text(_ range: Range<Int>) -> String {
                String(seeds[range].prefix(seeds[range.lowerBound] % 10 + 1).map { Self.alphabet[$0 % Self.alphabet.count] })
            }
            var micros = Int64(seeds[30]) * 253_402_300 - 62_135_596_800_000_000 + Int64(seeds[31])
            switch seeds[32] % 3 {
            case 0: micros -= micros % 1_000_000
            case 1: micros -= micros % 1000
            default: break
            }
            let event = Event(
                job: text(0..<10), type: EventType.allCases[seeds[33] % EventType.allCases.count],
                at: Timestamp(microseconds: micros), node: seeds[34] % 2 == 0 ? text(10..<20) : nil,
                holder: seeds[35] % 3 == 0 ? text(20..<30) : nil, reason: seeds[36] % 2 == 0 ? text(0..<5) : nil,
                index: seeds[37] % 2 == 0 ? UInt64(seeds[37]) * 18_446_744_073_709 : nil,
                attempt: seeds[38] % 2 == 0 ? UInt32(seeds[38] % 5000) : nil,
                data: seeds[39] % 2 == 0 ? JSONText.object([("k", JSONText.quoted(text(10..<20)))]) : nil)
            let recorded = RecordedEvent(seq: 1, version: 1, appendedAt: Timestamp(seconds: 0), event: event)
            let line = withView(of: recorded) { view in
                var out = JSONBytes()
                view.appendJSONLine(to: &out)
                return out.bytes
            }
            #expect(line == Array(event.jsonLine.utf8))
            if (try? event.validate()) != nil {
                #expect((try? Event(jsonLine: line)) == event)
            }
        }
    }
}
