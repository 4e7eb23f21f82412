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
        if job.isEmpty { throw EventValidationError(field: "job", problem: "must not be empty") }
        if job.utf8.count > EventLimits.jobBytes {
            throw EventValidationError(field: "job", problem: "longer than \(EventLimits.jobBytes) bytes")
        }
        try Event.check("node", node, limit: EventLimits.nameBytes)
        try Event.check("holder", holder, limit: EventLimits.nameBytes)
        try Event.check("reason", reason, limit: EventLimits.reasonBytes)
        if type.needsHolder && holder == nil {
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
            if data.utf8.count > EventLimits.dataBytes {
                throw EventValidationError(field: "data", problem: "larger than \(EventLimits.dataBytes) bytes")
            }
            guard JSONScanner.isObject(Array(data.utf8), checkUTF8: false) else {
                throw EventValidationError(field: "data", problem: "must be a JSON object")
            }
        }
    }

    private static func check(_ field: String, _ value: String?, limit: Int) throws(EventValidationError) {
        guard let value else { return }
        if value.isEmpty { throw EventValidationError(field: field, problem: "must not be empty") }
        if value.utf8.count > limit { throw EventValidationError(field: field, problem: "longer than \(limit) bytes") }
    }
}
