import Lifecycle

/// Why a run (`Logbook.run`, `RemoteLogbook.run`) did not start the body.
public enum WorkerError: Error, Sendable, CustomStringConvertible {
    /// The job has already been decided (`completed`, `failed` or `cancelled`).
    case terminal(JobState)
    /// Another attempt is running (its node and attempt are in the state). A dead one is interrupted
    /// by the reaper when its lease runs out; then the job can be resumed.
    case alreadyRunning(JobState)
    /// The job's attempts are exhausted (attempt 4294967295 has been used).
    case noAttemptLeft(JobState)
    /// The start kept losing to other writers' appends (each read was stale by the time it landed).
    case contended(job: String, tries: Int)

    public var description: String {
        switch self {
        case .terminal(let s):
            "job \(s.job) is \(s.status.name)\(s.decidedBy.map { " (decided at seq \($0))" } ?? ""): nothing to run"
        case .alreadyRunning(let s):
            "job \(s.job) is running attempt \(s.attempt)\(s.node.map { " on \($0)" } ?? "")"
        case .noAttemptLeft(let s): "job \(s.job) has used its last attempt (\(s.attempt))"
        case .contended(let job, let tries): "could not start job \(job): \(tries) starts lost to concurrent appends"
        }
    }
}

/// Why a running attempt's body was told to stop (by cancellation of its task).
public enum WorkerStop: Sendable, Hashable, CustomStringConvertible {
    /// The job reached a terminal status that this run did not append (cancelled elsewhere, say).
    case jobDecided(JobStatus, seq: UInt64?)
    /// Another attempt started: this one is a zombie and is fenced.
    case fenced(byAttempt: UInt32, node: String?)
    /// The attempt was interrupted (the reaper found it silent or stalled, or an operator did).
    case interrupted

    public var description: String {
        switch self {
        case .jobDecided(let status, let seq): "job \(status.name)\(seq.map { " at seq \($0)" } ?? "")"
        case .fenced(let attempt, let node): "fenced by attempt \(attempt)\(node.map { " on \($0)" } ?? "")"
        case .interrupted: "attempt interrupted"
        }
    }

    /// Whether `state` means that `attempt` must stop, and why.
    package static func reason(_ state: JobState, attempt: UInt32) -> WorkerStop? {
        if state.terminal { return .jobDecided(state.status, seq: state.decidedBy) }
        if state.attempt != attempt { return .fenced(byAttempt: state.attempt, node: state.node) }
        if state.status != .running { return .interrupted }
        return nil
    }
}
