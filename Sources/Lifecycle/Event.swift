/// One fact about one job, as a writer submits it. Immutable once appended.
public struct Event: Sendable, Hashable {
    public var job: String
    public var type: EventType
    /// When it happened, by the writer's clock. `nil` means "use the append time".
    /// The fold never orders by this: log order decides.
    public var at: Timestamp?
    public var node: String?
    public var holder: String?
    public var reason: String?
    /// Progress position (e.g. the index of the file being scanned).
    public var index: UInt64?
    /// The attempt the writer believes is current; used to fence zombie workers.
    public var attempt: UInt32?
    /// A JSON object's text, stored verbatim.
    public var data: String?
    /// The client's id for this event, unique in the journal: an append whose events' ids are all
    /// stored already stores nothing again and answers with what was stored (a safe retry).
    public var id: EventID?

    public init(
        job: String, type: EventType, at: Timestamp? = nil, node: String? = nil, holder: String? = nil,
        reason: String? = nil, index: UInt64? = nil, attempt: UInt32? = nil, data: String? = nil, id: EventID? = nil
    ) {
        self.job = job
        self.type = type
        self.at = at
        self.node = node
        self.holder = holder
        self.reason = reason
        self.index = index
        self.attempt = attempt
        self.data = data
        self.id = id
    }

    /// Byte equality of every text field: two events whose ids are canonically equivalent but
    /// differently encoded are different events (see `ExactID`).
    public static func == (a: Event, b: Event) -> Bool {
        a.job.hasSameBytes(as: b.job) && a.type == b.type && a.at == b.at && a.node.hasSameBytes(as: b.node)
            && a.holder.hasSameBytes(as: b.holder) && a.reason.hasSameBytes(as: b.reason) && a.index == b.index
            && a.attempt == b.attempt && a.data.hasSameBytes(as: b.data) && a.id == b.id
    }
}

/// An event as the journal stored it.
public struct RecordedEvent: Sendable, Hashable {
    /// Global position in the log, from 1, contiguous at append.
    public var seq: UInt64
    /// The job's version after this event: how many events were ever appended to the job, this one included.
    public var version: UInt64
    /// When the journal stored it.
    public var appendedAt: Timestamp
    /// The event; its `at` is always set (the append time when the writer gave none).
    public var event: Event

    public init(seq: UInt64, version: UInt64, appendedAt: Timestamp, event: Event) {
        self.seq = seq
        self.version = version
        self.appendedAt = appendedAt
        self.event = event
    }

    /// When it happened (the writer's `at`, else the append time).
    public var at: Timestamp { event.at ?? appendedAt }
}
