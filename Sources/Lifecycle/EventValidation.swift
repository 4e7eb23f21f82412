/// Why an event was refused at append. `field` names the offending field.
public struct EventValidationError: Error, Equatable, Sendable, CustomStringConvertible {
    public var field: String
    public var problem: String

    public init(field: String, problem: String) {
        self.field = field
        self.problem = problem
    }

    public var description: String { "\(field): \(problem)" }
}

/// Size limits of the event model (docs/event-model.md).
public enum EventLimits {
    public static let jobBytes = 256
    public static let nameBytes = 1024  // node, holder
    public static let reasonBytes = 4096
    public static let dataBytes = 16 << 20
}

extension Event {
    /// Checks the event against the event model; nothing invalid is ever stored.
    public func validate() throws(EventValidationError) {
        var text = data ?? ""
        let hasData = data != nil
        let failure: EventValidationError? = text.withUTF8 { bytes in
            do throws(EventValidationError) {
                try EventRules.check(
                    type: type, jobBytes: job.utf8.count, nodeBytes: node?.utf8.count, holderBytes: holder?.utf8.count,
                    reasonBytes: reason?.utf8.count, at: at, attempt: attempt, index: index,
                    data: hasData ? UnsafeRawBufferPointer(bytes) : nil)
                return nil
            } catch {
                return error
            }
        }
        if let failure { throw failure }
    }
}

/// The event rules over sizes and scalars, shared by `Event.validate()` and the journal's strict read
/// of a stored record (which checks them on the record's bytes without making strings).
public enum EventRules {
    public static func check(
        type: EventType, jobBytes: Int, nodeBytes: Int?, holderBytes: Int?, reasonBytes: Int?, at: Timestamp?,
        attempt: UInt32?, index: UInt64?, data: UnsafeRawBufferPointer?
    ) throws(EventValidationError) {
        if jobBytes == 0 { throw EventValidationError(field: "job", problem: "must not be empty") }
        if jobBytes > EventLimits.jobBytes {
            throw EventValidationError(field: "job", problem: "longer than \(EventLimits.jobBytes) bytes")
        }
        try check("node", nodeBytes, limit: EventLimits.nameBytes)
        try check("holder", holderBytes, limit: EventLimits.nameBytes)
        try check("reason", reasonBytes, limit: EventLimits.reasonBytes)
        if type.needsHolder && holderBytes == nil {
            throw EventValidationError(field: "holder", problem: "required for \(type.name)")
        }
        if let at, !Timestamp.rfc3339Range.contains(at) {
            throw EventValidationError(field: "at", problem: "must lie between years 0000 and 9999 (what RFC 3339 can write)")
        }
        if let attempt, attempt < 1 {
            throw EventValidationError(field: "attempt", problem: "must be an integer >= 1")
        }
        if let index, index > UInt64(Int64.max) {
            throw EventValidationError(field: "index", problem: "too large")
        }
        if let data {
            if data.count > EventLimits.dataBytes {
                throw EventValidationError(field: "data", problem: "larger than \(EventLimits.dataBytes) bytes")
            }
            guard JSONScanner.isObject(data) else {
                throw EventValidationError(field: "data", problem: "must be a JSON object")
            }
        }
    }

    private static func check(_ field: String, _ count: Int?, limit: Int) throws(EventValidationError) {
        guard let count else { return }
        if count == 0 { throw EventValidationError(field: field, problem: "must not be empty") }
        if count > limit { throw EventValidationError(field: field, problem: "longer than \(limit) bytes") }
    }
}
