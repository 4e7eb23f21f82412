/// A filter over the projections. Every set filter must hold (AND); an empty query matches all jobs.
public struct JobQuery: Sendable, Hashable {
    /// Any of these statuses (empty: any status).
    public var statuses: Set<JobStatus> = []
    /// Interrupted, so resumable.
    public var resumable = false
    /// Terminal and not finalized.
    public var unfinalized = false
    /// The current attempt runs (or ran) on this node.
    public var node: String?
    /// Running with no start, heartbeat or progress in the current attempt for at least this long
    /// (microseconds) as of `now`.
    public var silentFor: Int64?
    /// Running with no start or progress in the current attempt for at least this long as of `now`.
    public var stalledFor: Int64?
    /// "Now" for `silentFor` / `stalledFor`: a parameter, never a clock read inside the fold.
    public var now: Timestamp?

    public init(
        statuses: Set<JobStatus> = [], resumable: Bool = false, unfinalized: Bool = false, node: String? = nil,
        silentFor: Int64? = nil, stalledFor: Int64? = nil, now: Timestamp? = nil
    ) {
        self.statuses = statuses
        self.resumable = resumable
        self.unfinalized = unfinalized
        self.node = node
        self.silentFor = silentFor
        self.stalledFor = stalledFor
        self.now = now
    }

    /// Whether `state` passes every filter (the definition the indexes must agree with).
    public func matches(_ state: JobState) -> Bool {
        if !statuses.isEmpty && !statuses.contains(state.status) { return false }
        if resumable && state.status != .interrupted { return false }
        if unfinalized && !state.awaitsFinalization { return false }
        if let node, !state.node.hasSameBytes(as: node) { return false }
        let now = self.now ?? Timestamp(microseconds: 0)
        if let silentFor {
            guard state.status == .running, let last = state.lastSignOfLife, last <= now.subtracting(microseconds: silentFor)
            else { return false }
        }
        if let stalledFor {
            guard state.status == .running, let last = state.lastSignOfProgress,
                last <= now.subtracting(microseconds: stalledFor)
            else { return false }
        }
        return true
    }
}
