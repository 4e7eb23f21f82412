import Lifecycle

/// One event to append, optionally guarded by the version its writer expects the job to have
/// just before this event (the number of events ever appended to the job, 0 for a new job).
public struct AppendItem: Sendable, Hashable {
    public var event: Event
    public var expectedVersion: UInt64?

    public init(_ event: Event, expectedVersion: UInt64? = nil) {
        self.event = event
        self.expectedVersion = expectedVersion
    }
}
