/// Every job's state plus the indexes that answer the job queries in O(result).
///
/// Kept up to date event by event (`apply`), or built in one pass from states (`init(states:)`, used
/// after a snapshot load, and by `Replay` after a full replay). Both paths must give equal
/// projections; a property test checks it. A value type: copying it for a snapshot is O(1) until
/// the next write.
///
/// Jobs are interned (`JobKeys`): each gets a small integer key, its place in `states`, and the
/// indexes hold those keys. Ids are their bytes (`ExactID`): two canonically equivalent but
/// differently encoded ids are two jobs.
public struct Projections: Sendable, Equatable {
    /// Every job's state, in the order the jobs were first seen (not sorted).
    public private(set) var states: [JobState] = []
    private var keys = JobKeys()
    /// The last seq folded in.
    public private(set) var coveredSeq: UInt64 = 0
    /// Anomalies seen across all jobs (for metrics).
    public private(set) var anomalyTotal = 0
    /// Keys of the jobs in each status, indexed by `JobStatus.rawValue`.
    private var byStatus = [Set<UInt32>](repeating: [], count: JobStatus.allCases.count)
    private var unfinalized: Set<UInt32> = []
    private var byNode: [ExactID: Set<UInt32>] = [:]
    private var silence = TimeIndex()
    private var stall = TimeIndex()
    /// What the batched replay's look-ahead loads of states summed to: kept so they are not optimised away.
    private var lookahead: UInt64 = 0

    public init() {}

    /// Builds the projections of `states` (one per job; a later state of the same job replaces an
    /// earlier one) in one pass.
    public init(states: some Sequence<JobState>, coveredSeq: UInt64) {
        self.coveredSeq = coveredSeq
        // An array of distinct jobs (a decoded snapshot) becomes the states as it is, without a
        // copy of each 200-byte state; only the table of keys is built.
        if let array = states as? [JobState], adoptDistinct(array) {
            buildIndexes()
            return
        }
        // Anything else (a lazy sequence, a job named twice) state by state, sized once.
        self.states.reserveCapacity(states.underestimatedCount)
        keys.reserve(states.underestimatedCount)
        for state in states {
            var job = state.job
            let key = job.withUTF8 { intern(UnsafeRawBufferPointer($0)) { state.job } }
            self.states[Int(key)] = state
        }
        buildIndexes()
    }

    /// Takes `array` as the states when no job appears twice in it; otherwise leaves everything empty
    /// and returns false.
    private mutating func adoptDistinct(_ array: [JobState]) -> Bool {
        states = array
        keys.reserve(array.count)
        for i in array.indices {
            var job = array[i].job
            let distinct = job.withUTF8 { b -> Bool in
                let bytes = UnsafeRawBufferPointer(b)
                let hash = JobKeys.hash(bytes)
                guard keys.find(hash: hash, matches: { array[Int($0)].job.hasBytes(bytes) }) == nil else { return false }
                keys.insert(key: UInt32(i), hash: hash)
                return true
            }
            if !distinct {
                (states, keys) = ([], JobKeys())
                return false
            }
        }
        return true
    }

    /// Folds a whole log quickly: states only, event by event, then the indexes once at the end.
    public struct Replay {
        private var projections = Projections()
        public init() {}

        public mutating func fold(_ event: EventView) { projections.foldState(event) }
        public mutating func fold(_ event: RecordedEvent) { projections.foldState(event) }

        /// Folds `event` whose job is probably the one at `key` (jobs numbered in first-seen order,
        /// as `Journal.verify` numbers them): one comparison of the id instead of a hash lookup; a
        /// wrong hint costs the lookup, never a wrong fold.
        public mutating func fold(_ event: EventView, hint key: UInt32) {
            projections.foldState(event, hint: key)
        }

        /// Folds consecutive events, looking ahead: every job's hash is computed and its table slot
        /// and state touched before any is folded, so the batch's cache misses overlap (a replay of
        /// many jobs in random order is bound by them, not by the fold).
        public mutating func fold(batch events: UnsafeBufferPointer<EventView>) {
            projections.foldStates(events)
        }

        /// The projections of everything folded, their indexes built.
        public consuming func finish() -> Projections {
            var p = projections
            p.buildIndexes()
            return p
        }
    }

    /// The key of the job with these id bytes, interning it (with an empty state) when new.
    private mutating func intern(_ bytes: UnsafeRawBufferPointer, _ id: () -> String) -> UInt32 {
        intern(bytes, hash: JobKeys.hash(bytes), id)
    }

    private mutating func intern(_ bytes: UnsafeRawBufferPointer, hash: UInt32, _ id: () -> String) -> UInt32 {
        if let key = keys.find(hash: hash, matches: { states[Int($0)].job.hasBytes(bytes) }) { return key }
        let key = UInt32(states.count)
        states.append(JobState(job: id()))
        keys.insert(key: key, hash: hash)
        return key
    }

    private func key(of job: String) -> UInt32? {
        var job = job
        return job.withUTF8 { b in
            let bytes = UnsafeRawBufferPointer(b)
            return keys.find(hash: JobKeys.hash(bytes)) { states[Int($0)].job.hasBytes(bytes) }
        }
    }

    private mutating func foldStates(_ events: UnsafeBufferPointer<EventView>) {
        guard let views = events.baseAddress, let last = events.last else { return }
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: events.count) { hashes in
            keys.lookAhead(events, hashes: hashes)
            // Then the states the probes will most likely end at, the same way.
            var touched: UInt64 = 0
            for i in events.indices {
                if let key = keys.firstCandidate(hash: hashes[i]) { touched &+= states[Int(key)].version }
            }
            lookahead = touched
            // Each view is read where it lies: copying every view once more (then 169 bytes, a call
            // to memcpy) was a fifth of a replay's time.
            for i in events.indices {
                let key = intern(views[i].job, hash: hashes[i]) { views[i].jobString }
                Fold.apply(views[i], to: &states[Int(key)])
            }
        }
        coveredSeq = last.seq
    }

    private mutating func foldState(_ event: EventView, hint key: UInt32) {
        guard Int(key) < states.count, states[Int(key)].job.hasBytes(event.job) else {
            foldState(event)
            return
        }
        Fold.apply(event, to: &states[Int(key)])
        coveredSeq = event.seq
    }

    private mutating func foldState<E: FoldInput>(_ event: E) {
        let key = event.withJobBytes { intern($0) { event.jobString } }
        Fold.apply(event, to: &states[Int(key)])
        coveredSeq = event.seq
    }

    private mutating func buildIndexes() {
        anomalyTotal = 0
        var byStatus = [[UInt32]](repeating: [], count: JobStatus.allCases.count)
        var byNode: [ExactID: [UInt32]] = [:]
        var unfinalized: [UInt32] = []
        var silence: [(job: UInt32, time: Timestamp)] = []
        var stall: [(job: UInt32, time: Timestamp)] = []
        for (i, s) in states.enumerated() {
            let job = UInt32(i)
            anomalyTotal = Projections.saturatingSum(anomalyTotal, s.anomalyCount)
            byStatus[Int(s.status.rawValue)].append(job)
            if let node = s.node { byNode[ExactID(node), default: []].append(job) }
            if s.awaitsFinalization { unfinalized.append(job) }
            if s.status == .running {
                if let t = s.lastSignOfLife { silence.append((job, t)) }
                if let t = s.lastSignOfProgress { stall.append((job, t)) }
            }
        }
        self.byStatus = byStatus.map { Set($0) }
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

    /// The state of the job whose id has exactly these bytes.
    public func state(of job: String) -> JobState? { key(of: job).map { states[Int($0)] } }

    /// The state of the job whose id is these bytes (a view's `job`).
    public func state(ofJobBytes bytes: UnsafeRawBufferPointer) -> JobState? {
        keys.find(hash: JobKeys.hash(bytes)) { states[Int($0)].job.hasBytes(bytes) }.map { states[Int($0)] }
    }

    /// Folds one event in, in place. Events must arrive in seq order.
    @discardableResult
    public mutating func apply(_ event: RecordedEvent) -> Fold.Effect { applyEvent(event) }

    /// Folds one event read in place (no string is made unless the fold needs one).
    @discardableResult
    public mutating func apply(_ event: EventView) -> Fold.Effect { applyEvent(event) }

    private mutating func applyEvent<E: FoldInput>(_ event: E) -> Fold.Effect {
        let job = event.withJobBytes { intern($0) { event.jobString } }
        coveredSeq = event.seq
        let i = Int(job)
        let before = states[i].version > 0 ? IndexKey(states[i], job) : nil  // every stored job has version >= 1
        let effect = Fold.apply(event, to: &states[i])  // in place, no copy
        let after = IndexKey(states[i], job)
        guard case .applied = effect else {
            anomalyTotal = Projections.saturatingSum(anomalyTotal, 1)
            if before == nil { index(after, previous: nil) }  // a job whose first event is an anomaly
            return effect
        }
        if let before { unindex(before, keeping: after) }
        index(after, previous: before)
        return effect
    }

    /// Replaces what is known of `job` with the fold of `events` (its events still in the log, in
    /// seq order, none after `coveredSeq`), leaving `coveredSeq` as it is: how a job removed in place
    /// (an online archive) leaves the projections. With no events the job is forgotten, as if it had
    /// never been folded; with some (the job was created again after its removal) it is the job
    /// those events make. Either way the projections equal a fold of the log as it is now.
    public mutating func refold(_ job: String, from events: [RecordedEvent]) {
        forget(job)
        let covered = coveredSeq
        for e in events where e.seq <= covered { _ = applyEvent(e) }
        coveredSeq = covered
    }

    /// Records that every event up to `seq` is folded in, when the log holds none after the last one
    /// folded (they were removed in place). Never lowers the coverage.
    public mutating func cover(through seq: UInt64) { coveredSeq = max(coveredSeq, seq) }

    /// Takes `job` out of the states, the indexes and the key table; the last job takes its key.
    private mutating func forget(_ job: String) {
        guard let k = key(of: job) else { return }
        let gone = states[Int(k)]
        unindexAll(IndexKey(gone, k))
        anomalyTotal = anomalyTotal == .max ? .max : anomalyTotal - gone.anomalyCount
        keys.remove(key: k, hash: JobKeys.hash(gone.job))
        let last = UInt32(states.count - 1)
        if k != last {
            let moved = states[Int(last)]
            unindexAll(IndexKey(moved, last))
            keys.rekey(from: last, to: k, hash: JobKeys.hash(moved.job))
            states[Int(k)] = moved
            index(IndexKey(moved, k), previous: nil)
        }
        states.removeLast()
    }

    /// Removes every index entry of the job `s` describes.
    private mutating func unindexAll(_ s: IndexKey) {
        byStatus[Int(s.status.rawValue)].remove(s.job)
        if s.awaitsFinalization { unfinalized.remove(s.job) }
        if let node = s.node {
            byNode[node]?.remove(s.job)
            if byNode[node]?.isEmpty == true { byNode[node] = nil }
        }
        if s.status == .running {
            if let t = s.lastSignOfLife { silence.remove(s.job, at: t) }
            if let t = s.lastSignOfProgress { stall.remove(s.job, at: t) }
        }
    }

    /// Jobs matching `query`, sorted by job id (byte order).
    public func jobs(_ query: JobQuery) -> [JobState] {
        var candidates: [UInt32]
        let now = query.now ?? Timestamp(microseconds: 0)
        if let silentFor = query.silentFor {
            candidates = silence.jobs(atOrBefore: now.subtracting(microseconds: silentFor)) { states[Int($0)].lastSignOfLife }
        } else if let stalledFor = query.stalledFor {
            candidates = stall.jobs(atOrBefore: now.subtracting(microseconds: stalledFor)) {
                states[Int($0)].lastSignOfProgress
            }
        } else if query.resumable {
            candidates = Array(byStatus[Int(JobStatus.interrupted.rawValue)])
        } else if query.unfinalized {
            candidates = Array(unfinalized)
        } else if let node = query.node {
            candidates = Array(byNode[ExactID(node)] ?? [])
        } else if !query.statuses.isEmpty {
            candidates = Set(query.statuses).flatMap { byStatus[Int($0.rawValue)] }
        } else {
            return states.filter(query.matches).sorted { ExactID($0.job) < ExactID($1.job) }
        }
        var result = candidates.map { states[Int($0)] }.filter(query.matches)
        result.sort { ExactID($0.job) < ExactID($1.job) }
        return result
    }

    /// Count of jobs per status (statuses with no job are left out).
    public var statusCounts: [JobStatus: Int] {
        var counts: [JobStatus: Int] = [:]
        for status in JobStatus.allCases where !byStatus[Int(status.rawValue)].isEmpty {
            counts[status] = byStatus[Int(status.rawValue)].count
        }
        return counts
    }

    /// Equal states for the same jobs, the same coverage and indexes holding the same jobs (keys are
    /// compared through the ids they stand for, so the order jobs were first seen does not matter).
    public static func == (a: Projections, b: Projections) -> Bool {
        guard a.coveredSeq == b.coveredSeq, a.anomalyTotal == b.anomalyTotal, a.states.count == b.states.count else {
            return false
        }
        // The same jobs in the same order (a snapshot plus its tail and a full replay both number
        // jobs as first seen): a key means the same job on both sides, so the indexes compare as
        // they are, without mapping each key back to its id.
        if a.states == b.states {
            return a.byStatus == b.byStatus && a.unfinalized == b.unfinalized && a.byNode == b.byNode
                && a.silence == b.silence && a.stall == b.stall
        }
        for s in a.states { guard let t = b.state(of: s.job), t == s else { return false } }
        return a.indexContents == b.indexContents
    }

    /// Every index with its keys replaced by the ids they stand for.
    private var indexContents: IndexContents {
        let id = { (key: UInt32) in ExactID(states[Int(key)].job) }
        var statuses: [JobStatus: Set<ExactID>] = [:]
        for status in JobStatus.allCases where !byStatus[Int(status.rawValue)].isEmpty {
            statuses[status] = Set(byStatus[Int(status.rawValue)].map(id))
        }
        return IndexContents(
            byStatus: statuses, unfinalized: Set(unfinalized.map(id)), byNode: byNode.mapValues { Set($0.map(id)) },
            silence: silence.contents(id), stall: stall.contents(id))
    }

    private struct IndexContents: Equatable {
        var byStatus: [JobStatus: Set<ExactID>]
        var unfinalized: Set<ExactID>
        var byNode: [ExactID: Set<ExactID>]
        var silence: TimeIndex.Contents
        var stall: TimeIndex.Contents
    }

    // MARK: Index maintenance

    /// The parts of a job state the indexes are keyed on.
    struct IndexKey: Equatable {
        var job: UInt32
        var status: JobStatus
        var awaitsFinalization: Bool
        var node: ExactID?
        var lastSignOfLife: Timestamp?
        var lastSignOfProgress: Timestamp?

        init(_ s: JobState, _ job: UInt32) {
            self.job = job
            status = s.status
            awaitsFinalization = s.awaitsFinalization
            node = s.node.map { ExactID($0) }
            lastSignOfLife = s.lastSignOfLife
            lastSignOfProgress = s.lastSignOfProgress
        }
    }

    private mutating func index(_ s: IndexKey, previous: IndexKey?) {
        if previous?.status != s.status || previous == nil { byStatus[Int(s.status.rawValue)].insert(s.job) }
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
        if old.status != new.status { byStatus[Int(old.status.rawValue)].remove(old.job) }
        if old.awaitsFinalization && !new.awaitsFinalization { unfinalized.remove(old.job) }
        if let node = old.node, node != new.node {
            byNode[node]?.remove(old.job)
            if byNode[node]?.isEmpty == true { byNode[node] = nil }
        }
        if old.status == .running {
            let stillRunning = new.status == .running
            if let t = old.lastSignOfLife, !stillRunning || new.lastSignOfLife != t { silence.remove(old.job, at: t) }
            if let t = old.lastSignOfProgress, !stillRunning || new.lastSignOfProgress != t {
                stall.remove(old.job, at: t)
            }
        }
    }
}
