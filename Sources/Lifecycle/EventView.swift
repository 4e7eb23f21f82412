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
    public var at: Timestamp
    public var appendedAt: Timestamp
    public var job: UnsafeRawBufferPointer
    // The optional fields are stored without `Optional`'s extra byte and its padding (an absent text
    // is a nil base address, an absent number a cleared flag), so that a view stays small enough to
    // copy in a few register moves rather than a call to `memcpy`: the replay copies each view it
    // folds. A test holds its size.
    @usableFromInline var _node: UnsafeRawBufferPointer
    @usableFromInline var _holder: UnsafeRawBufferPointer
    @usableFromInline var _reason: UnsafeRawBufferPointer
    @usableFromInline var _data: UnsafeRawBufferPointer
    @usableFromInline var _index: UInt64
    @usableFromInline var _attempt: UInt32
    public var type: EventType
    @usableFromInline var _has: UInt8

    @usableFromInline static let hasIndex: UInt8 = 1
    @usableFromInline static let hasAttempt: UInt8 = 2
    @usableFromInline static let hasID: UInt8 = 4

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
        self.job = job
        _node = EventView.stored(nodeBytes)
        _holder = EventView.stored(holderBytes)
        _reason = EventView.stored(reasonBytes)
        _data = EventView.stored(dataBytes)
        _index = index ?? 0
        _attempt = attempt ?? 0
        _has = (index == nil ? 0 : EventView.hasIndex) | (attempt == nil ? 0 : EventView.hasAttempt)
    }

    /// A text as stored: absent is a nil base address, so a present text always has one (an empty
    /// buffer may have none; it gets a placeholder, never read since its count is 0).
    @inlinable @inline(__always)
    static func stored(_ bytes: UnsafeRawBufferPointer?) -> UnsafeRawBufferPointer {
        guard let bytes else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        if bytes.baseAddress != nil { return bytes }
        return UnsafeRawBufferPointer(start: UnsafeRawPointer(bitPattern: 1), count: 0)
    }

    @inlinable @inline(__always)
    static func present(_ bytes: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer? {
        bytes.baseAddress == nil ? nil : bytes
    }

    /// Sets or clears one of `_has`'s flags.
    @inlinable @inline(__always)
    mutating func mark(_ flag: UInt8, present: Bool) { _has = present ? _has | flag : _has & ~flag }

    public var attempt: UInt32? {
        @inlinable get { _has & EventView.hasAttempt == 0 ? nil : _attempt }
        @inlinable set {
            _attempt = newValue ?? 0
            mark(EventView.hasAttempt, present: newValue != nil)
        }
    }
    public var index: UInt64? {
        @inlinable get { _has & EventView.hasIndex == 0 ? nil : _index }
        @inlinable set {
            _index = newValue ?? 0
            mark(EventView.hasIndex, present: newValue != nil)
        }
    }
    public var nodeBytes: UnsafeRawBufferPointer? {
        @inlinable get { EventView.present(_node) }
        @inlinable set { _node = EventView.stored(newValue) }
    }
    public var holderBytes: UnsafeRawBufferPointer? {
        @inlinable get { EventView.present(_holder) }
        @inlinable set { _holder = EventView.stored(newValue) }
    }
    public var reasonBytes: UnsafeRawBufferPointer? {
        @inlinable get { EventView.present(_reason) }
        @inlinable set { _reason = EventView.stored(newValue) }
    }
    public var dataBytes: UnsafeRawBufferPointer? {
        @inlinable get { EventView.present(_data) }
        @inlinable set { _data = EventView.stored(newValue) }
    }

    /// The event's id. A record stores it right after the job id (docs/record-format.md), so the view
    /// keeps only a flag: the record decoder marks it (`idFollowsJob`), and the 16 bytes are read from
    /// there. Nothing else may set the flag.
    public var id: EventID? {
        guard _has & EventView.hasID != 0, let base = job.baseAddress else { return nil }
        return EventID(
            high: UInt64(bigEndian: (base + job.count).loadUnaligned(as: UInt64.self)),
            low: UInt64(bigEndian: (base + job.count + 8).loadUnaligned(as: UInt64.self)))
    }

    /// Marks the 16 bytes after the job id as the event's id (for the record decoder only).
    package mutating func idFollowsJob() { mark(EventView.hasID, present: true) }

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
                attempt: attempt, data: data, id: id))
    }
}
