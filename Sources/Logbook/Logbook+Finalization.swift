import JobRunner
import Journal
import Lifecycle

/// What one pass of `Logbook.drainFinalizations` did.
public struct FinalizationReport: Sendable, Hashable {
    /// Jobs whose side effects this drainer ran and then marked `finalized`.
    public var finalized: [String] = []
    /// Jobs another drainer holds a live claim on (or finalized first): left to it.
    public var leftToOthers: [String] = []
    /// Jobs whose side effect threw, with the error's description. The claim stays; this holder may
    /// retry at once on its next pass, any other once the claim is older than the lease.
    public var failed: [Failure] = []

    public struct Failure: Sendable, Hashable {
        public var job: String
        public var error: String
    }

    public init() {}
}

extension Logbook {
    /// Runs the terminal side effects (release a slot, notify children) of every job in the
    /// unfinalized outbox, once across drainers, and marks each `finalized` after its effect succeeds.
    ///
    ///     let report = try await logbook.drainFinalizations(holder: "node-a", lease: .seconds(60)) { state in
    ///         try await slots.release(for: state.job)
    ///     }
    ///
    /// For each terminal, unfinalized job: a claim, `finalizing` with `holder`, appended under the
    /// version just read, so of two drainers that read the same version one wins and the other skips
    /// the job (seed 001: two HA nodes finalizing one task). Then `effect`, then `finalized`. A job
    /// whose latest claim is another holder's and younger than `lease` (by this logbook's clock) is
    /// left to that holder; an older one means its drainer died mid-effect, and the claim is taken
    /// over. So every effect runs, and runs once, unless a drainer dies between its effect and its
    /// `finalized`: then it runs again after the lease, so effects must be idempotent (as with any
    /// outbox). A claim of this same holder is retaken at once (a restarted drainer).
    ///
    /// Jobs are drained one at a time, in the outbox's order. Throws only when the journal refuses
    /// an append for a reason other than a lost race (it is closed, read-only, or failing).
    public func drainFinalizations(
        holder: String, lease: Duration, _ effect: (JobState) async throws -> Void
    ) async throws(JournalError) -> FinalizationReport {
        var report = FinalizationReport()
        let leaseMicroseconds = lease.wholeMicroseconds
        for candidate in jobs(JobQuery(unfinalized: true)) {
            guard let claimed = try await claim(candidate, holder: holder, leaseMicroseconds: leaseMicroseconds) else {
                report.leftToOthers.append(candidate.job)
                continue
            }
            do {
                try await effect(claimed)
            } catch {
                report.failed.append(.init(job: claimed.job, error: AttemptRun.reason(describing: error)))
                continue
            }
            // No expected version here: the claim already excluded every other live drainer, and a
            // `finalized` after another one is kept as an anomaly (R19), never a second finalization.
            _ = try await append(Event(job: claimed.job, type: .finalized, holder: holder))
            report.finalized.append(claimed.job)
        }
        return report
    }

    /// Claims `job` for `holder`, re-reading after each lost race; nil when it is someone else's (or done).
    private func claim(_ read: JobState, holder: String, leaseMicroseconds: Int64) async throws(JournalError) -> JobState? {
        var current = state(of: read.job) ?? read  // the outbox was listed before earlier jobs' effects ran
        for _ in 0..<8 {
            guard current.awaitsFinalization else { return nil }
            if let claim = current.finalizing, !claim.holder.hasSameBytes(as: holder),
                options.clock().microseconds - claim.at.microseconds < leaseMicroseconds
            {
                return nil
            }
            do throws(JournalError) {
                let outcome = try await append(
                    Event(job: current.job, type: .finalizing, holder: holder), expectedVersion: current.version)
                return outcome.state
            } catch {
                guard case .versionConflict = error else { throw error }
                _ = try? refresh()  // the winner may be another process
                guard let fresh = state(of: current.job) else { return nil }
                current = fresh
            }
        }
        return nil  // it keeps changing under us: leave it to the next pass
    }
}
