import Lifecycle
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
