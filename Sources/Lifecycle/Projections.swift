/// Every job's state plus the indexes that answer the job queries in O(result).
///
/// Kept up to date event by event (`apply`), or built in one pass from states (`init(states:)`, used
/// after a full replay or a snapshot load). Both paths must give equal projections; a property test
/// checks it. A value type: copying it for a snapshot is O(1) until the next write.
public struct Projections: Sendable, Hashable {
    public private(set) var states: [ExactID: JobState] = [:]
    /// The last seq folded in.
    public private(set) var coveredSeq: UInt64 = 0
    /// Anomalies seen across all jobs (for metrics).
    public private(set) var anomalyTotal = 0
    private var byStatus: [JobStatus: Set<ExactID>] = [:]
    private var unfinalized: Set<ExactID> = []
    private var byNode: [ExactID: Set<ExactID>] = [:]
    private var silence = TimeIndex()
    private var stall = TimeIndex()

    public init() {}

    /// Builds the indexes for `states` in one pass.
    /// Folds `event` into `states` in place, without touching any index (for bulk replays that build
    /// the indexes once at the end with `init(states:coveredSeq:)`).
    public static func fold(_ event: RecordedEvent, into states: inout [ExactID: JobState]) {
        let job = ExactID(event.event.job)
        if let i = states.index(forKey: job) {
            Fold.apply(event, to: &states.values[i])
        } else {
            var state = JobState(job: job.string)
            Fold.apply(event, to: &state)
            states[job] = state
        }
    }

    public init(states: [ExactID: JobState], coveredSeq: UInt64) {
        self.states = states
        self.coveredSeq = coveredSeq
        var byStatus: [JobStatus: [ExactID]] = [:]
        var byNode: [ExactID: [ExactID]] = [:]
        var unfinalized: [ExactID] = []
        var silence: [(job: ExactID, time: Timestamp)] = []
        var stall: [(job: ExactID, time: Timestamp)] = []
        for (job, s) in states {
            anomalyTotal = Projections.saturatingSum(anomalyTotal, s.anomalyCount)
            byStatus[s.status, default: []].append(job)
            if let node = s.node { byNode[ExactID(node), default: []].append(job) }
            if s.awaitsFinalization { unfinalized.append(job) }
            if s.status == .running {
                if let t = s.lastSignOfLife { silence.append((job, t)) }
                if let t = s.lastSignOfProgress { stall.append((job, t)) }
            }
        }
        self.byStatus = byStatus.mapValues { Set($0) }
        self.byNode = byNode.mapValues { Set($0) }
        self.unfinalized = Set(unfinalized)
        self.silence = TimeIndex(silence)
        self.stall = TimeIndex(stall)
    }

    public var jobCount: Int { states.count }

    static func saturatingSum(_ a: Int, _ b: Int) -> Int {
        let (sum, overflow) = a.addingReportingOverflow(b)
        return overflow ? .max : sum
    }

    public func state(of job: String) -> JobState? { states[ExactID(job)] }

    /// Folds one event in, in place. Events must arrive in seq order.
    @discardableResult
    public mutating func apply(_ event: RecordedEvent) -> Fold.Effect {
        let job = ExactID(event.event.job)
        coveredSeq = event.seq
        var before: IndexKey?
        var after: IndexKey?
        let effect: Fold.Effect
        if let i = states.index(forKey: job) {
            effect = Projections.update(&states.values[i], event, &before, &after)  // in place, no copy
        } else {
            var state = JobState(job: job.string)
            effect = Projections.update(&state, event, &before, &after)
            states[job] = state
        }
        guard case .applied = effect else {
            anomalyTotal = Projections.saturatingSum(anomalyTotal, 1)
            if before == nil, let after { index(after, previous: nil) }  // a job whose first event is an anomaly
            return effect
        }
        if let before, let after { unindex(before, keeping: after) }
        if let after { index(after, previous: before) }
        return effect
    }

    private static func update(
        _ state: inout JobState, _ event: RecordedEvent, _ before: inout IndexKey?, _ after: inout IndexKey?
    ) -> Fold.Effect {
        if state.version > 0 { before = IndexKey(state) }  // every stored job has version >= 1
        let effect = Fold.apply(event, to: &state)
        after = IndexKey(state)
        return effect
    }

    /// Jobs matching `query`, sorted by job id (byte order).
    public func jobs(_ query: JobQuery) -> [JobState] {
        var candidates: [ExactID]
        let now = query.now ?? Timestamp(microseconds: 0)
        if let silentFor = query.silentFor {
            candidates = silence.jobs(atOrBefore: now.subtracting(microseconds: silentFor)) { states[$0]?.lastSignOfLife }
        } else if let stalledFor = query.stalledFor {
            candidates = stall.jobs(atOrBefore: now.subtracting(microseconds: stalledFor)) { states[$0]?.lastSignOfProgress }
        } else if query.resumable {
            candidates = Array(byStatus[.interrupted] ?? [])
        } else if query.unfinalized {
            candidates = Array(unfinalized)
        } else if let node = query.node {
            candidates = Array(byNode[ExactID(node)] ?? [])
        } else if !query.statuses.isEmpty {
            candidates = query.statuses.flatMap { byStatus[$0] ?? [] }
        } else {
            candidates = Array(states.keys)
        }
        var result = candidates.compactMap { states[$0] }.filter(query.matches)
        result.sort { ExactID($0.job) < ExactID($1.job) }
        return result
    }

    /// Count of jobs per status.
    public var statusCounts: [JobStatus: Int] { byStatus.mapValues(\.count) }

    // MARK: Index maintenance

    /// The parts of a job state the indexes are keyed on.
    struct IndexKey: Equatable {
        var job: ExactID
        var status: JobStatus
        var awaitsFinalization: Bool
        var node: ExactID?
        var lastSignOfLife: Timestamp?
        var lastSignOfProgress: Timestamp?

        init(_ s: JobState) {
            job = ExactID(s.job)
            status = s.status
            awaitsFinalization = s.awaitsFinalization
            node = s.node.map { ExactID($0) }
            lastSignOfLife = s.lastSignOfLife
            lastSignOfProgress = s.lastSignOfProgress
        }
    }

    private mutating func index(_ s: IndexKey, previous: IndexKey?) {
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
    private mutating func unindex(_ old: IndexKey, keeping new: IndexKey) {
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

    private static func remove<K: Hashable>(_ job: ExactID, from index: inout [K: Set<ExactID>], key: K) {
        index[key]?.remove(job)
        if index[key]?.isEmpty == true { index[key] = nil }
    }
}
