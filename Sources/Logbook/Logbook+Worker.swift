import JobRunner
import Journal
import Lifecycle

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
        try await AttemptRun.run(on: EmbeddedHost(logbook: self), job: job, node: node, heartbeatEvery: heartbeatEvery, clock: clock, body)
    }
}

/// The run loop's host in this process: states from the projections, changes from `changes(of:)`
/// (at once for this process's appends, within the foreign-append poll for other processes').
struct EmbeddedHost: AttemptHost {
    let logbook: Logbook

    func readState(of job: String) async throws -> JobState? {
        _ = try? logbook.refresh()  // another process's append may not be folded in yet
        return logbook.state(of: job)
    }

    func knownState(of job: String) -> JobState? { logbook.state(of: job) }

    func append(_ event: Event, expectedVersion: UInt64?) async throws -> (state: JobState, seq: UInt64) {
        let outcome = try await logbook.append(event, expectedVersion: expectedVersion)
        return (outcome.state, outcome.seqs.last ?? 0)
    }

    func isVersionConflict(_ error: any Error) -> Bool {
        if case JournalError.versionConflict = error { return true }
        return false
    }

    func changes(of job: String, after start: AttemptStart) -> AsyncStream<JobState> { logbook.changes(of: job) }
}
