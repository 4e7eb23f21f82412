import Lifecycle
import Synchronization

/// The body's handle on its attempt (`Logbook.run`, `RemoteLogbook.run`). Every append it makes
/// carries the attempt, so a zombie of this attempt can only add anomalies to a later one, never
/// change it.
public final class RunningJob: Sendable {
    public let job: String
    public let node: String
    public let attempt: UInt32
    let host: any AttemptHost
    let stopped = Mutex<WorkerStop?>(nil)

    init(job: String, node: String, attempt: UInt32, host: any AttemptHost) {
        self.job = job
        self.node = node
        self.attempt = attempt
        self.host = host
    }

    /// Why the attempt was told to stop, once it has been (nil while it may go on).
    public var stopReason: WorkerStop? { stopped.withLock { $0 } }

    /// The job's state as this process knows it now.
    public var state: JobState { host.knownState(of: job) ?? JobState(job: job) }

    /// Appends `progress` with the attempt. Throws `CancellationError` when the answer shows the job
    /// terminal, interrupted or taken over by another attempt (the event is stored all the same, as
    /// evidence, and the fold ignores it); throws the host's error when it could not be stored.
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
        let state = try await host.append(event, expectedVersion: nil).state
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
    case failed(any Error)
    case quiet
}

/// One attempt of a job, run the same way whichever host keeps the job (docs/embedding.md, "Running
/// a job"; docs/client.md): the contract is `Logbook.run`'s.
public enum AttemptRun {
    /// Starts the attempt, heartbeats while `body` runs, cancels `body`'s task when the job is
    /// decided elsewhere or the attempt is interrupted or fenced, and records how it ended.
    public static func run<C: Clock>(
        on host: any AttemptHost, job: String, node: String, heartbeatEvery: Duration, clock: C,
        _ body: @escaping @Sendable (RunningJob) async throws -> Void
    ) async throws -> JobState where C.Duration == Duration {
        let start = try await startAttempt(on: host, job: job, node: node)
        let attempt = start.attempt
        let handle = RunningJob(job: job, node: node, attempt: attempt, host: host)
        // Watch from the start on, then look once: a change that landed between the start and the
        // watch is caught by the look, every later one by the watch.
        let changes = host.changes(of: job, after: start)
        if let now = host.knownState(of: job), let why = WorkerStop.reason(now, attempt: attempt) { handle.stop(why) }

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
                    do {
                        let state = try await host.append(Event(job: job, type: .heartbeat, attempt: attempt), expectedVersion: nil).state
                        if let why = WorkerStop.reason(state, attempt: attempt) { return .stop(why) }
                    } catch {
                        if Task.isCancelled { return .quiet }
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
            var failure: (any Error)?
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
        if handle.stopReason != nil { return try await host.readState(of: job) ?? JobState(job: job) }
        if let failure { throw failure }
        let end: Event
        switch bodyResult {
        case .success:
            end = Event(job: job, type: .completed, attempt: attempt)
        case .failure(let error) where error is CancellationError && Task.isCancelled:
            end = Event(job: job, type: .interrupted, reason: "workerCancelled", attempt: attempt)
        case .failure(let error):
            end = Event(job: job, type: .failed, reason: reason(describing: error), attempt: attempt)
        }
        return try await host.append(end, expectedVersion: nil).state
    }

    /// Starts the next attempt under the version it read; retries only when an unrelated append
    /// raced in (the job is still startable after a re-read).
    static func startAttempt(on host: any AttemptHost, job: String, node: String) async throws -> AttemptStart {
        let tries = 8
        for _ in 0..<tries {
            let current = try await host.readState(of: job) ?? JobState(job: job)
            if current.terminal { throw WorkerError.terminal(current) }
            if current.status == .running { throw WorkerError.alreadyRunning(current) }
            if current.attempt == .max { throw WorkerError.noAttemptLeft(current) }
            let attempt = current.attempt + 1
            let start = Event(
                job: job, type: current.status == .interrupted ? .resumed : .started, node: node, attempt: attempt)
            do {
                let (after, seq) = try await host.append(start, expectedVersion: current.version)
                // Under the expected version nothing can come between the read and the start.
                precondition(after.attempt == attempt && after.status == .running, "a guarded start did not apply")
                return AttemptStart(attempt: attempt, state: after, seq: seq)
            } catch {
                guard host.isVersionConflict(error) else { throw error }
            }
        }
        throw WorkerError.contended(job: job, tries: tries)
    }

    /// An error's description as a `reason`: at most the event model's limit, cut on a character.
    public static func reason(describing error: any Error) -> String {
        var text = String(describing: error)
        if text.isEmpty { text = "\(type(of: error))" }
        while text.utf8.count > EventLimits.reasonBytes { text.removeLast() }
        return text
    }
}
