/// Why a JSON Lines event was refused; the CLI prefixes the line number.
public struct EventDecodingError: Error, Equatable, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

extension Event {
    /// The fields of the ingest/export format, in the order export writes them.
    public static let jsonFields = ["job", "type", "id", "at", "node", "holder", "reason", "index", "attempt", "data"]

    /// The fields a stored event's JSON adds (`RecordedEvent.json`), which the journal assigns.
    public static let storedFields: Set<String> = ["seq", "version", "appendedAt"]

    /// Decodes one line of the ingest format (a JSON object with the event-model fields) and validates it.
    /// With `job`, the object may omit its `job` field (it is taken from there) or must repeat it exactly.
    /// With `acceptingStoredFields`, a stored event's `seq`, `version` and `appendedAt` are accepted
    /// and ignored (the journal assigns them anew), so `replay --json` and the service's events can
    /// be ingested as they are.
    public init(jsonLine bytes: [UInt8], job impliedJob: String? = nil, acceptingStoredFields: Bool = false)
        throws(EventDecodingError)
    {
        guard String(validating: bytes, as: UTF8.self) != nil else { throw EventDecodingError("invalid UTF-8") }
        let members: [(key: String, value: JSONScanner.Value)]
        do {
            members = try JSONScanner.members(of: bytes)
        } catch {
            throw EventDecodingError(error.description)
        }
        var fields = LineFields()
        for (key, value) in members { try fields.take(key, value, acceptingStoredFields: acceptingStoredFields) }
        self = try fields.event(impliedJob: impliedJob)
    }

    /// The fields of one line as they are read, then checked together.
    private struct LineFields {
        var job: String?
        var type: EventType?
        var event = Event(job: "", type: .created)

        /// Reads one member into its field, refusing an unknown one (or, with
        /// `acceptingStoredFields`, ignoring what export adds: seq, version, appendedAt).
        mutating func take(_ key: String, _ value: JSONScanner.Value, acceptingStoredFields: Bool) throws(EventDecodingError) {
            switch key {
            case "job": job = try Self.text(key, value)
            case "type":
                guard let name = try Self.text(key, value) else { break }
                guard let t = EventType(name: name) else {
                    throw EventDecodingError("field \"type\": unknown event type \"\(name)\"")
                }
                type = t
            case "at":
                guard let raw = try Self.text(key, value) else { break }
                guard let at = Timestamp(rfc3339: raw) else {
                    throw EventDecodingError("field \"at\": not an RFC 3339 time: \"\(raw)\"")
                }
                event.at = at
            case "id":
                guard let raw = try Self.text(key, value) else { break }
                guard let id = EventID(uuid: raw) else {
                    throw EventDecodingError("field \"id\": not a UUID (8-4-4-4-12 hex digits): \"\(raw)\"")
                }
                event.id = id
            case "node": event.node = try Self.text(key, value)
            case "holder": event.holder = try Self.text(key, value)
            case "reason": event.reason = try Self.text(key, value)
            case "index": event.index = try Self.integer(key, value, min: 0).map { UInt64($0) }
            case "attempt":
                if let a = try Self.integer(key, value, min: 1) {
                    guard a <= Int64(UInt32.max) else { throw EventDecodingError("field \"attempt\": too large") }
                    event.attempt = UInt32(a)
                }
            case "data":
                switch value {
                case .object(let raw): event.data = raw
                case .null: break
                default: throw EventDecodingError("field \"data\": expected an object, got \(value.typeName)")
                }
            default:
                guard acceptingStoredFields, Event.storedFields.contains(key) else {
                    throw EventDecodingError("unknown field \"\(key)\"")
                }
            }
        }

        /// The event, once every member is read: the job from the line or the path (they must
        /// agree), the type, and the event rules.
        func event(impliedJob: String?) throws(EventDecodingError) -> Event {
            var job = self.job
            if let impliedJob {
                if let job, job != impliedJob {
                    throw EventDecodingError("field \"job\": \"\(job)\" does not match the job in the path, \"\(impliedJob)\"")
                }
                job = impliedJob
            }
            guard let job else { throw EventDecodingError("missing field \"job\"") }
            guard let type else { throw EventDecodingError("missing field \"type\"") }
            var event = self.event
            event.job = job
            event.type = type
            do {
                try event.validate()
            } catch {
                throw EventDecodingError("field \"\(error.field)\": \(error.problem)")
            }
            return event
        }

        static func text(_ key: String, _ value: JSONScanner.Value) throws(EventDecodingError) -> String? {
            switch value {
            case .string(let s): return s
            case .null: return nil
            default: throw EventDecodingError("field \"\(key)\": expected a string, got \(value.typeName)")
            }
        }

        static func integer(_ key: String, _ value: JSONScanner.Value, min: Int64) throws(EventDecodingError) -> Int64? {
            switch value {
            case .null: return nil
            case .number(let raw):
                guard let n = Int64(raw) ?? Event.integralValue(raw), n >= min else {
                    throw EventDecodingError("field \"\(key)\": expected an integer >= \(min), got \(raw)")
                }
                return n
            default: throw EventDecodingError("field \"\(key)\": expected an integer, got \(value.typeName)")
            }
        }
    }

    /// One line of the ingest/export format (no trailing newline).
    public var jsonLine: String {
        var out = JSONBytes()
        appendJSONLine(to: &out)
        return out.text
    }

    /// Appends `jsonLine` to `out` without making a string.
    public func appendJSONLine(to out: inout JSONBytes) {
        out.appendEventLine(
            job: .string(job), type: type, id: id, at: at, node: node.map(EventText.string),
            holder: holder.map(EventText.string), reason: reason.map(EventText.string), index: index,
            attempt: attempt, data: data.map(EventText.string))
    }
}

extension EventView {
    /// Appends the event's line of the ingest/export format (no newline) without making a string:
    /// byte for byte what `recorded.event.jsonLine` is.
    public func appendJSONLine(to out: inout JSONBytes) {
        out.appendEventLine(
            job: .bytes(job), type: type, id: id, at: at, node: nodeBytes.map(EventText.bytes),
            holder: holderBytes.map(EventText.bytes), reason: reasonBytes.map(EventText.bytes), index: index,
            attempt: attempt, data: dataBytes.map(EventText.bytes))
    }
}

/// A text field of an event, owned or borrowed from the map.
enum EventText {
    case string(String)
    case bytes(UnsafeRawBufferPointer)
}

extension EventText {
    var count: Int {
        switch self {
        case .string(let s): s.utf8.count
        case .bytes(let raw): raw.count
        }
    }
}

extension JSONBytes {
    /// The one encoding of an event as a JSON line; absent fields are left out. Written in one
    /// reservation: the keys, the quoted texts at their worst, two numbers, a timestamp, the data.
    mutating func appendEventLine(
        job: EventText, type: EventType, id: EventID?, at: Timestamp?, node: EventText?, holder: EventText?,
        reason: EventText?, index: UInt64?, attempt: UInt32?, data: EventText?
    ) {
        let texts = job.count + (node?.count ?? 0) + (holder?.count ?? 0) + (reason?.count ?? 0)
        let bound = 96 + 48 + 4 * 2 + RawWriter.quotedBound(texts) + 2 * RawWriter.decimalBound + RawWriter.rfc3339Bound
            + (data?.count ?? 0)
        let day = at.map { civilDate(days: Timestamp.floorDivide(Timestamp.floorDivide($0.microseconds, by: 1_000_000), by: 86_400)) }
            ?? (0, 0, 0)  // unused without `at`
        write(bound: bound) { w in
            w.raw("{\"job\":")
            w.quoted(job)
            w.raw(",\"type\":\"")
            w.raw(type.staticName)  // a literal: no escaping needed
            w.byte(UInt8(ascii: "\""))
            if let id {
                w.raw(",\"id\":\"")
                id.forEachUUIDCharacter { w.byte($0) }
                w.byte(UInt8(ascii: "\""))
            }
            if let at {
                w.raw(",\"at\":\"")
                w.rfc3339(at) { _ in day }
                w.byte(UInt8(ascii: "\""))
            }
            if let node { w.member(",\"node\":", node) }
            if let holder { w.member(",\"holder\":", holder) }
            if let reason { w.member(",\"reason\":", reason) }
            if let index { w.member(",\"index\":", index) }
            if let attempt { w.member(",\"attempt\":", UInt64(attempt)) }
            if let data {
                w.raw(",\"data\":")
                switch data {
                case .string(let text): w.raw(string: text)
                case .bytes(let raw): w.raw(raw)
                }
            }
            w.byte(UInt8(ascii: "}"))
        }
    }
}

extension RawWriter {
    fileprivate mutating func member(_ key: StaticString, _ value: EventText) {
        raw(key)
        quoted(value)
    }

    fileprivate mutating func member(_ key: StaticString, _ value: UInt64) {
        raw(key)
        decimal(value)
    }

    fileprivate mutating func quoted(_ text: EventText) {
        switch text {
        case .string(let s): quoted(s)
        case .bytes(let raw): quoted(raw)
        }
    }
}

extension Event {
    /// The body of an append request: one event object, or an array of them (at least one). With
    /// `job` (the service's path), an event's own `job` must equal it; without, every event names
    /// its job (`POST /events`, a batch over several jobs).
    public static func decodeBody(_ bytes: [UInt8], job: String?) throws(EventDecodingError) -> [Event] {
        let first = bytes.first { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }
        guard first == UInt8(ascii: "[") else { return [try Event(jsonLine: bytes, job: job)] }
        let elements: [[UInt8]]
        do {
            elements = try JSONScanner.arrayElements(of: bytes)
        } catch {
            throw EventDecodingError(error.description)
        }
        guard !elements.isEmpty else { throw EventDecodingError("the array holds no events") }
        var events: [Event] = []
        for (i, element) in elements.enumerated() {
            do {
                events.append(try Event(jsonLine: element, job: job))
            } catch {
                throw EventDecodingError("event \(i + 1): \(error.message)")
            }
        }
        return events
    }
}

extension Event {
    /// A JSON number that is an integer written with a fraction or exponent (`5.0`, `1e3`, `2.50e1`):
    /// JSON Schema counts those as integers, so the API accepts them; nil for a non-integral number
    /// or one beyond Int64.
    static func integralValue(_ raw: String) -> Int64? {
        var text = Substring(raw)
        let negative = text.first == "-"
        if negative { text = text.dropFirst() }
        var exponent = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            guard let x = Int(text[text.index(after: e)...].drop { $0 == "+" }), abs(x) <= 40 else { return nil }
            exponent = x
            text = text[..<e]
        }
        var digits = text
        if let dot = text.firstIndex(of: ".") {
            let fraction = text[text.index(after: dot)...]
            exponent -= fraction.count
            digits = text[..<dot] + fraction
        }
        guard !digits.isEmpty, digits.allSatisfy(\.isASCIIDigitForJSON) else { return nil }
        var d = String(digits)
        while exponent < 0 {
            guard d.last == "0" else { return nil }  // a nonzero fractional digit
            d.removeLast()
            exponent += 1
        }
        d += String(repeating: "0", count: exponent)
        guard let magnitude = Int64(d.isEmpty ? "0" : d) else { return nil }
        return negative ? -magnitude : magnitude
    }
}

extension Character {
    fileprivate var isASCIIDigitForJSON: Bool { self >= "0" && self <= "9" }
}
