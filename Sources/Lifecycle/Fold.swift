/// The fold: a job's state is a pure function of its events in log order.
///
/// No clock, no I/O, no randomness: the same events always give the same state. Each rule below is
/// a row of the table in docs/event-model.md (R1…R26) and has a test named after it.
public enum Fold {
    /// What one event did to the state.
    public enum Effect: Sendable, Hashable {
        case applied
        case ignored(Anomaly)
    }

    /// Folds `events` (one job's, in log order) from nothing.
    public static func state<E: FoldInput>(of job: String, _ events: some Sequence<E>) -> JobState {
        var state = JobState(job: job)
        for e in events { apply(e, to: &state) }
        return state
    }

    /// Applies one event. The event must belong to `state.job` and come after every event already folded.
    /// Generic over `FoldInput`; specialized inside this module for an owned `RecordedEvent` and a
    /// borrowed `EventView`.
    @discardableResult
    public static func apply<E: FoldInput>(_ recorded: E, to state: inout JobState) -> Effect {
        state.version = recorded.version  // R21: anomalies count too
        if let message = anomaly(recorded, state) {
            let anomaly = Anomaly(seq: recorded.seq, type: recorded.type, message: message)
            state.anomalyCount += 1
            if state.anomalies.count < JobState.anomalyLimit { state.anomalies.append(anomaly) }
            return .ignored(anomaly)
        }
        let e = recorded
        let at = recorded.at
        switch e.type {
        case .created:
            state.createdAt = at  // R1
        case .started, .resumed:  // R3
            state.attempt += 1
            state.node = e.node
            state.attemptStartedAt = at
            state.lastHeartbeatAt = nil
            state.lastProgressAt = nil
            state.status = .running
        case .heartbeat:
            state.lastHeartbeatAt = at  // R5
        case .progress:
            state.lastProgressAt = at  // R6
            if let index = e.index { state.index = index }
        case .interrupted:
            state.status = .interrupted  // R10
        case .cancelled, .completed, .failed:  // R11
            state.status = e.type == .cancelled ? .cancelled : e.type == .completed ? .completed : .failed
            state.decidedBy = recorded.seq
            state.decidedReason = e.reason
        case .refAcquired:  // R12, R13
            let holder = e.holder ?? ""
            if let i = insertionIndex(of: holder, in: state.refs) { state.refs.insert(holder, at: i) }
        case .refReleased:  // R14, R15
            let holder = e.holder ?? ""
            state.refs.removeAll { $0.hasSameBytes(as: holder) }  // ids are bytes (ExactID)
            if state.refs.isEmpty {
                state.status = .cancelled
                state.decidedBy = recorded.seq
                state.decidedReason = "lastRefReleased"
            }
        case .finalized:
            state.finalized = true  // R18
        case .finalizing:
            state.finalizing = FinalizationClaim(holder: e.holder ?? "", seq: recorded.seq, at: at)  // R24
        }
        return .applied
    }

    /// Why the event must be ignored, or nil when it applies. Order matters: a terminal job ignores
    /// everything but its first `finalized` and the `finalizing` claims before it, whatever the event claims.
    /// Inlined, so that the state is read where it lies rather than copied for every event.
    @inline(__always)
    static func anomaly<E: FoldInput>(_ e: E, _ state: JobState) -> String? {
        var type: String { e.type.name }  // made only for a message
        if state.terminal {
            if e.type == .finalized {
                return state.finalized ? "finalized again: ignored" : nil  // R19, R18
            }
            if e.type == .finalizing {
                return state.finalized ? "finalizing after finalized: ignored" : nil  // R25, R24
            }
            let decided = state.decidedBy.map { " at seq \($0)" } ?? ""
            return "\(type) after \(state.status.name)\(decided): ignored"  // R20
        }
        if e.type.opensAttempt && state.attempt == .max {  // R23: attempts are counted in 32 bits
            return "\(type) after attempt \(state.attempt), the last one there can be: ignored"
        }
        if let claimed = e.attempt {
            if e.type.opensAttempt {
                if claimed != state.attempt + 1 {  // R4
                    return "\(type) names attempt \(claimed) but the next attempt is \(state.attempt + 1): ignored"
                }
            } else if claimed < state.attempt {  // R8: a zombie of an earlier attempt
                let where_ = state.node.map { " on \($0)" } ?? ""
                let what = state.status == .running ? "runs" : "is \(state.status.name)"
                return "\(type) from attempt \(claimed) while attempt \(state.attempt) \(what)\(where_): ignored"
            } else if claimed > state.attempt {  // R9
                return "\(type) names attempt \(claimed) but the latest attempt is \(state.attempt): ignored"
            }
        }
        switch e.type {
        case .created:
            if state.createdAt != nil { return "created again: ignored" }  // R2
        case .heartbeat, .progress:
            if state.status != .running { return "\(type) while \(state.status.name): ignored" }  // R7
        case .refReleased:
            let holder = e.holder
            if !state.refs.contains(where: { $0.hasSameBytes(as: holder ?? "") }) {  // R16
                return "refReleased by \(holder ?? "?"), who holds no ref: ignored"
            }
        case .finalized:
            return "finalized before any terminal event: ignored"  // R17
        case .finalizing:
            return "finalizing before any terminal event: ignored"  // R26
        default:
            break
        }
        return nil
    }

    /// Where `holder` goes in sorted `refs`, or nil when it is already there (acquire is idempotent).
    static func insertionIndex(of holder: String, in refs: [String]) -> Int? {
        var lo = 0
        var hi = refs.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if refs[mid].hasSameBytes(as: holder) { return nil }
            if refs[mid].utf8.lexicographicallyPrecedes(holder.utf8) { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }
}
