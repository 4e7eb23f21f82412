/// The facts Logbook records about a job. The raw value is the byte stored in the record format;
/// never renumber a case (docs/record-format.md).
public enum EventType: UInt8, CaseIterable, Sendable, Hashable, Comparable {
    case created = 1
    case started = 2
    case progress = 3
    case heartbeat = 4
    case interrupted = 5
    case resumed = 6
    case cancelled = 7
    case completed = 8
    case failed = 9
    case refAcquired = 10
    case refReleased = 11
    case finalized = 12
    /// A drainer claims a terminal job's side effects before running them (`Logbook.drainFinalizations`).
    case finalizing = 13

    /// The name used in JSON, on the command line and in docs.
    public var name: String { staticName.description }

    /// The name as static UTF-8, for encoders that write bytes.
    public var staticName: StaticString {
        switch self {
        case .created: "created"
        case .started: "started"
        case .progress: "progress"
        case .heartbeat: "heartbeat"
        case .interrupted: "interrupted"
        case .resumed: "resumed"
        case .cancelled: "cancelled"
        case .completed: "completed"
        case .failed: "failed"
        case .refAcquired: "refAcquired"
        case .refReleased: "refReleased"
        case .finalized: "finalized"
        case .finalizing: "finalizing"
        }
    }

    public init?(name: String) {
        guard let match = EventType.allCases.first(where: { $0.name == name }) else { return nil }
        self = match
    }

    /// Events that decide a job's outcome forever.
    public var isTerminal: Bool { self == .cancelled || self == .completed || self == .failed }

    /// Events that open a new attempt.
    public var opensAttempt: Bool { self == .started || self == .resumed }

    /// Events that must name a `holder`.
    public var needsHolder: Bool { self == .refAcquired || self == .refReleased || self == .finalizing }

    public static func < (a: EventType, b: EventType) -> Bool { a.rawValue < b.rawValue }
}

extension EventType: CustomStringConvertible {
    public var description: String { name }
}
