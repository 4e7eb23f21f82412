import Foundation
import JobRunner
import Lifecycle
import Synchronization

/// The run loop's host over HTTP: states read from the service, appends with ids and retries, and
/// the job's changes as its event stream folded into the state right after the run's start (the
/// fold is the one the service runs, so the states are the service's).
final class RemoteHost: AttemptHost {
    let remote: RemoteLogbook
    private let known = Mutex<[String: JobState]>([:])

    init(remote: RemoteLogbook) { self.remote = remote }

    private func remember(_ state: JobState) {
        known.withLock { k in
            if let old = k[state.job], old.version > state.version { return }  // an older answer came late
            k[state.job] = state
        }
    }

    func readState(of job: String) async throws -> JobState? {
        let state = try await remote.state(of: job)
        if let state { remember(state) }
        return state
    }

    func knownState(of job: String) -> JobState? { known.withLock { $0[job] } }

    func append(_ event: Event, expectedVersion: UInt64?) async throws -> (state: JobState, seq: UInt64) {
        let outcome = try await remote.append(event, expectedVersion: expectedVersion)
        remember(outcome.state)
        return (outcome.state, outcome.seqs.last ?? 0)
    }

    func isVersionConflict(_ error: any Error) -> Bool {
        if case RemoteLogbookError.versionConflict = error { return true }
        return false
    }

    func changes(of job: String, after start: AttemptStart) -> AsyncStream<JobState> {
        let events = remote.follow(after: start.seq, job: job)
        let (stream, continuation) = AsyncStream<JobState>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let task = Task { [self] in
            var state = start.state
            do {
                for try await event in events where event.event.job == job {
                    _ = Fold.apply(event, to: &state)
                    remember(state)
                    continuation.yield(state)
                }
            } catch {}
            continuation.finish()
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }
}
