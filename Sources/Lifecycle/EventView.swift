/// A stored event read in place: the scalars decoded, the texts left as bytes in the memory they
/// were read from (the journal's memory map) until something asks for them.
///
/// A view is only valid during the call that hands it out (`Journal.scanViews`); keep what you need
/// by calling `recorded` or reading the string properties, never the buffers themselves. Scans,
/// replays, verify, export and compaction read through views, so folding a heartbeat allocates
/// nothing and exporting one writes its bytes straight to the output.
public struct EventView: FoldInput {
    public var seq: UInt64
    public var version: UInt64
    public var type: EventType
    public var at: Timestamp
    public var appendedAt: Timestamp
    public var attempt: UInt32?
    public var index: UInt64?
    public var job: UnsafeRawBufferPointer
    public var nodeBytes: UnsafeRawBufferPointer?
    public var holderBytes: UnsafeRawBufferPointer?
    public var reasonBytes: UnsafeRawBufferPointer?
    public var dataBytes: UnsafeRawBufferPointer?

    @inlinable
    public init(
        seq: UInt64, version: UInt64, type: EventType, at: Timestamp, appendedAt: Timestamp, attempt: UInt32?,
        index: UInt64?, job: UnsafeRawBufferPointer, nodeBytes: UnsafeRawBufferPointer?,
        holderBytes: UnsafeRawBufferPointer?, reasonBytes: UnsafeRawBufferPointer?, dataBytes: UnsafeRawBufferPointer?
    ) {
        self.seq = seq
        self.version = version
        self.type = type
        self.at = at
        self.appendedAt = appendedAt
        self.attempt = attempt
        self.index = index
        self.job = job
        self.nodeBytes = nodeBytes
        self.holderBytes = holderBytes
        self.reasonBytes = reasonBytes
        self.dataBytes = dataBytes
    }

    public var jobString: String { String(decoding: job, as: UTF8.self) }
    public var node: String? { nodeBytes.map { String(decoding: $0, as: UTF8.self) } }
    public var holder: String? { holderBytes.map { String(decoding: $0, as: UTF8.self) } }
    public var reason: String? { reasonBytes.map { String(decoding: $0, as: UTF8.self) } }
    public var data: String? { dataBytes.map { String(decoding: $0, as: UTF8.self) } }

    public func withJobBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R { try body(job) }

    /// Whether the job id is exactly `id`'s bytes.
    public func isJob(_ id: ExactID) -> Bool {
        var s = id.string
        return s.withUTF8 { String.sameBytes($0, job.assumingMemoryBound(to: UInt8.self)) }
    }

    /// The event as an owned value (every string made), to keep beyond the call.
    public var recorded: RecordedEvent {
        RecordedEvent(
            seq: seq, version: version, appendedAt: appendedAt,
            event: Event(
                job: jobString, type: type, at: at, node: node, holder: holder, reason: reason, index: index,
                attempt: attempt, data: data))
    }
}
