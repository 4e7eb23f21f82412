/// Every job's state plus the indexes that answer the job queries in O(result).
///
/// Kept up to date event by event (`apply`), or built in one pass from states (`init(states:)`, used
/// after a full replay or a snapshot load). Both paths must give equal projections; a property test
/// checks it. A value type: copying it for a snapshot is O(1) until the next write.
public struct Projections: Sendable, Hashable {
    public private(set) var states: [String: JobState] = [:]
    /// The last seq folded in.
    public private(set) var coveredSeq: UInt64 = 0
    /// Anomalies seen across all jobs (for metrics).
    public private(set) var anomalyTotal = 0
    private var byStatus: [JobStatus: Set<String>] = [:]
    private var unfinalized: Set<String> = []
    private var byNode: [String: Set<String>] = [:]
    private var silence = TimeIndex()
    private var stall = TimeIndex()

    public init() {}

    /// Builds the indexes for `states` in one pass.
    public init(states: [String: JobState], coveredSeq: UInt64) {
        self.states = states
        self.coveredSeq = coveredSeq
        for state in states.values {
            index(state)
            anomalyTotal += state.anomalyCount
        }
    }

    public var jobCount: Int { states.count }

    public func state(of job: String) -> JobState? { states[job] }

    /// Folds one event in. Events must arrive in seq order.
    @discardableResult
    public mutating func apply(_ event: RecordedEvent) -> Fold.Effect {
        let job = event.event.job
        let old = states[job]
        var state = old ?? JobState(job: job)
        let effect = Fold.apply(event, to: &state)
        coveredSeq = event.seq
        if case .ignored = effect {
            anomalyTotal += 1
            if old != nil {  // only version and anomalies changed: no index moves
                states[job] = state
                return effect
            }
        }
        if let old { unindex(old, keeping: state) }
        states[job] = state
        index(state, previous: old)
        return effect
    }

    /// Jobs matching `query`, sorted by job id (byte order).
    public func jobs(_ query: JobQuery) -> [JobState] {
        var candidates: [String]
        let now = query.now ?? Timestamp(microseconds: 0)
        if let silentFor = query.silentFor {
            candidates = silence.jobs(atOrBefore: now.adding(microseconds: -silentFor)) { states[$0]?.lastSignOfLife }
        } else if let stalledFor = query.stalledFor {
            candidates = stall.jobs(atOrBefore: now.adding(microseconds: -stalledFor)) { states[$0]?.lastSignOfProgress }
        } else if query.resumable {
            candidates = Array(byStatus[.interrupted] ?? [])
        } else if query.unfinalized {
            candidates = Array(unfinalized)
        } else if let node = query.node {
            candidates = Array(byNode[node] ?? [])
        } else if !query.statuses.isEmpty {
            candidates = query.statuses.flatMap { byStatus[$0] ?? [] }
        } else {
            candidates = Array(states.keys)
        }
        var result = candidates.compactMap { states[$0] }.filter(query.matches)
        result.sort { $0.job.utf8.lexicographicallyPrecedes($1.job.utf8) }
        return result
    }

    /// Count of jobs per status.
    public var statusCounts: [JobStatus: Int] { byStatus.mapValues(\.count) }

    // MARK: Index maintenance

    private mutating func index(_ s: JobState, previous: JobState? = nil) {
        if previous?.status != s.status || previous == nil { byStatus[s.status, default: []].insert(s.job) }
        if s.awaitsFinalization && previous?.awaitsFinalization != true { unfinalized.insert(s.job) }
        if let node = s.node, previous?.node != node { byNode[node, default: []].insert(s.job) }
        if s.status == .running {
            let wasRunning = previous?.status == .running
            if let t = s.lastSignOfLife, !wasRunning || previous?.lastSignOfLife != t { silence.insert(s.job, at: t) }
            if let t = s.lastSignOfProgress, !wasRunning || previous?.lastSignOfProgress != t {
                stall.insert(s.job, at: t)
            }
        }
    }

    /// Removes `old`'s index entries that `new` no longer shares.
    private mutating func unindex(_ old: JobState, keeping new: JobState) {
        if old.status != new.status { Projections.remove(old.job, from: &byStatus, key: old.status) }
        if old.awaitsFinalization && !new.awaitsFinalization { unfinalized.remove(old.job) }
        if let node = old.node, node != new.node { Projections.remove(old.job, from: &byNode, key: node) }
        if old.status == .running {
            let stillRunning = new.status == .running
            if let t = old.lastSignOfLife, !stillRunning || new.lastSignOfLife != t { silence.remove(old.job, at: t) }
            if let t = old.lastSignOfProgress, !stillRunning || new.lastSignOfProgress != t {
                stall.remove(old.job, at: t)
            }
        }
    }

    private static func remove<K: Hashable>(_ job: String, from index: inout [K: Set<String>], key: K) {
        index[key]?.remove(job)
        if index[key]?.isEmpty == true { index[key] = nil }
    }
}
