import Journal
import Lifecycle
import Synchronization

/// Why `Logbook.run` did not start the body.
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
    static func reason(_ state: JobState, attempt: UInt32) -> WorkerStop? {
        if state.terminal { return .jobDecided(state.status, seq: state.decidedBy) }
        if state.attempt != attempt { return .fenced(byAttempt: state.attempt, node: state.node) }
        if state.status != .running { return .interrupted }
        return nil
    }
}

/// The body's handle on its attempt (`Logbook.run`). Every append it makes carries the attempt, so
/// a zombie of this attempt can only add anomalies to a later one, never change it.
public final class RunningJob: Sendable {
    public let job: String
    public let node: String
    public let attempt: UInt32
    let logbook: Logbook
    let stopped = Mutex<WorkerStop?>(nil)

    init(job: String, node: String, attempt: UInt32, logbook: Logbook) {
        self.job = job
        self.node = node
        self.attempt = attempt
        self.logbook = logbook
    }

    /// Why the attempt was told to stop, once it has been (nil while it may go on).
    public var stopReason: WorkerStop? { stopped.withLock { $0 } }

    /// The job's state as this process knows it now.
    public var state: JobState { logbook.state(of: job) ?? JobState(job: job) }

    /// Appends `progress` with the attempt. Throws `CancellationError` when the answer shows the job
    /// terminal, interrupted or taken over by another attempt (the event is stored all the same, as
    /// evidence, and the fold ignores it); throws `JournalError` when it could not be stored.
    @discardableResult
    public func progress(index: UInt64? = nil, data: String? = nil) async throws -> JobState {
        try await report(Event(job: job, type: .progress, index: index, attempt: attempt, data: data))
    }

    /// Appends a heartbeat now (the run also sends them on its own timer); throws like `progress`.
    @discardableResult
    public func heartbeat() async throws -> JobState {
        try await report(Event(job: job, type: .heartbeat, attempt: attempt))
    }

    private func report(_ event: Event) async throws -> JobState {
        let state = try await logbook.append(event).state
        if let why = WorkerStop.reason(state, attempt: attempt) {
            stop(why)
            throw CancellationError()
        }
        return state
    }

    /// Records the first reason to stop; later ones do not replace it.
    @discardableResult
    func stop(_ why: WorkerStop) -> Bool {
        stopped.withLock { s in
            guard s == nil else { return false }
            s = why
            return true
        }
    }
}

/// How one of a run's tasks (the body, the heartbeat, the watcher) ended.
private enum RunTaskEnd: Sendable {
    case body(Result<Void, any Error>)
    case stop(WorkerStop)
    case failed(JournalError)
    case quiet
}

extension Logbook {
    /// Runs one attempt of `job` on `node`: starts it, heartbeats while `body` runs, cancels `body`'s
    /// task when the job is decided elsewhere or the attempt is interrupted or fenced, and records how
    /// it ended. Returns the job's state after the run.
    ///
    ///     let final = try await logbook.run(job: "scan-3", node: "node-a", heartbeatEvery: .seconds(5)) { job in
    ///         for (i, file) in files.enumerated() {
    ///             try await job.progress(index: UInt64(i))
    ///             try await scan(file)
    ///         }
    ///     }
    ///
    /// - Start: appends `started` (a pending job) or `resumed` (an interrupted one) with the next
    ///   attempt and `node`, under the version it read. A terminal job, or one running another
    ///   attempt, is refused with `WorkerError` and the body never runs.
    /// - While the body runs: a `heartbeat` with the attempt every `heartbeatEvery` on `clock`. The
    ///   answer to every append, and every change to the job seen in the log (`changes(of:)`: at once
    ///   for this process's appends, within the foreign-append poll for other processes'), is checked:
    ///   a terminal job, an interrupted attempt or a newer attempt cancels the body's task.
    /// - The end: the body returned → `completed`; it threw → `failed` with the error's description
    ///   as reason; it was stopped because of the job → nothing more (what stopped it decided); the
    ///   caller's own task was cancelled (a shutdown) → `interrupted`, reason `workerCancelled`, so
    ///   the job can be resumed. Each carries the attempt: if the job was decided meanwhile, the
    ///   append is kept as an anomaly and the earlier decision stands.
    ///
    /// Throws `WorkerError` when it refuses to start and `JournalError` when an append of the run
    /// fails (after the body has ended); never the body's own error, which is recorded as `failed`.
    public func run<C: Clock>(
        job: String, node: String, heartbeatEvery: Duration, clock: C = ContinuousClock(),
        _ body: @escaping @Sendable (RunningJob) async throws -> Void
    ) async throws -> JobState where C.Duration == Duration {
        let handle = try await startAttempt(job: job, node: node)
        let attempt = handle.attempt
        // Watch from now on, then look once: a change that landed between the start and the watch is
        // caught by the look, every later one by the watch. (Watching before the start would leave a
        // registered watch behind when the start is refused.)
        let changes = changes(of: job)
        if let now = state(of: job), let why = WorkerStop.reason(now, attempt: attempt) { handle.stop(why) }

        let (bodyResult, failure) = await withTaskGroup(of: RunTaskEnd.self) { group in
            group.addTask {
                do {
                    try await body(handle)
                    return .body(.success(()))
                } catch {
                    return .body(.failure(error))
                }
            }
            group.addTask {
                while true {
                    do {
                        try await clock.sleep(for: heartbeatEvery)
                    } catch {
                        return .quiet
                    }
                    if Task.isCancelled { return .quiet }
                    do throws(JournalError) {
                        let state = try await self.append(Event(job: job, type: .heartbeat, attempt: attempt)).state
                        if let why = WorkerStop.reason(state, attempt: attempt) { return .stop(why) }
                    } catch {
                        return .failed(error)
                    }
                }
            }
            group.addTask {
                if let why = handle.stopReason { return .stop(why) }  // stopped before the body began
                for await state in changes {
                    if let why = WorkerStop.reason(state, attempt: attempt) { return .stop(why) }
                }
                return .quiet
            }
            var bodyResult: Result<Void, any Error>?
            var failure: JournalError?
            while let next = await group.next() {
                switch next {
                case .body(let r):
                    bodyResult = r
                    group.cancelAll()  // the heartbeat and the watcher end with the body
                case .stop(let why):
                    handle.stop(why)
                    group.cancelAll()
                case .failed(let error):
                    failure = failure ?? error
                    group.cancelAll()
                case .quiet:
                    break
                }
            }
            return (bodyResult ?? .success(()), failure)
        }

        // The body has ended. Record how, unless what stopped it already decided.
        if handle.stopReason != nil { return state(of: job) ?? JobState(job: job) }
        if let failure { throw failure }
        let end: Event
        switch bodyResult {
        case .success:
            end = Event(job: job, type: .completed, attempt: attempt)
        case .failure(let error) where error is CancellationError && Task.isCancelled:
            end = Event(job: job, type: .interrupted, reason: "workerCancelled", attempt: attempt)
        case .failure(let error):
            end = Event(job: job, type: .failed, reason: Self.reason(describing: error), attempt: attempt)
        }
        return try await append(end).state
    }

    /// Starts the next attempt under the version it read; retries only when an unrelated append
    /// raced in (the job is still startable after a re-read).
    func startAttempt(job: String, node: String) async throws -> RunningJob {
        let tries = 8
        for _ in 0..<tries {
            let current = state(of: job) ?? JobState(job: job)
            if current.terminal { throw WorkerError.terminal(current) }
            if current.status == .running { throw WorkerError.alreadyRunning(current) }
            if current.attempt == .max { throw WorkerError.noAttemptLeft(current) }
            let attempt = current.attempt + 1
            let start = Event(
                job: job, type: current.status == .interrupted ? .resumed : .started, node: node, attempt: attempt)
            do throws(JournalError) {
                let after = try await append(start, expectedVersion: current.version).state
                // Under the expected version nothing can come between the read and the start.
                precondition(after.attempt == attempt && after.status == .running, "a guarded start did not apply")
                return RunningJob(job: job, node: node, attempt: attempt, logbook: self)
            } catch {
                guard case .versionConflict = error else { throw error }
                _ = try? refresh()  // the conflicting append may be another process's, not folded in yet
            }
        }
        throw WorkerError.contended(job: job, tries: tries)
    }

    /// An error's description as a `reason`: at most the event model's limit, cut on a character.
    static func reason(describing error: any Error) -> String {
        var text = String(describing: error)
        if text.isEmpty { text = "\(type(of: error))" }
        while text.utf8.count > EventLimits.reasonBytes { text.removeLast() }
        return text
    }
}
