/// What the fold reads from an event: satisfied by an owned `RecordedEvent` and by a borrowed view
/// of a stored record (`EventView`), which makes its strings only when asked.
///
/// The fold asks for `node` only when an attempt opens, `holder` only for refs and `reason` only for
/// terminal events, so folding a heartbeat or a progress event from a view allocates nothing.
public protocol FoldInput {
    var seq: UInt64 { get }
    var version: UInt64 { get }
    var type: EventType { get }
    /// When it happened (the writer's `at`, else the append time).
    var at: Timestamp { get }
    var attempt: UInt32? { get }
    var index: UInt64? { get }
    var node: String? { get }
    var holder: String? { get }
    var reason: String? { get }
    /// The job id as a `String` (made once per job, when the projections first meet it).
    var jobString: String { get }
    /// Calls `body` with the job id's UTF-8 bytes (no copy for a view).
    func withJobBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R
}

extension RecordedEvent: FoldInput {
    public var type: EventType { event.type }
    public var attempt: UInt32? { event.attempt }
    public var index: UInt64? { event.index }
    public var node: String? { event.node }
    public var holder: String? { event.holder }
    public var reason: String? { event.reason }
    public var jobString: String { event.job }

    public func withJobBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        var job = event.job
        return try job.withUTF8 { try body(UnsafeRawBufferPointer($0)) }
    }
}
