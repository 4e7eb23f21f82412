/// Where a job stands. `completed`, `failed` and `cancelled` are terminal: once one is reached, the
/// job never leaves it. The raw value is stored in snapshots; never renumber.
public enum JobStatus: UInt8, CaseIterable, Sendable, Hashable, Comparable {
    /// No attempt has started yet.
    case pending = 0
    /// An attempt is running (`started` or `resumed`).
    case running = 1
    /// Stopped without an outcome; resumable.
    case interrupted = 2
    case completed = 3
    case failed = 4
    case cancelled = 5

    public var isTerminal: Bool { rawValue >= JobStatus.completed.rawValue }

    public var name: String {
        switch self {
        case .pending: "pending"
        case .running: "running"
        case .interrupted: "interrupted"
        case .completed: "completed"
        case .failed: "failed"
        case .cancelled: "cancelled"
        }
    }

    public init?(name: String) {
        guard let s = JobStatus.allCases.first(where: { $0.name == name }) else { return nil }
        self = s
    }

    public static func < (a: JobStatus, b: JobStatus) -> Bool { a.rawValue < b.rawValue }
}

extension JobStatus: CustomStringConvertible {
    public var description: String { name }
}
