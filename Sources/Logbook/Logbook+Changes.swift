import Journal
import Lifecycle
import Synchronization

extension Logbook {
    /// The job's state after each committed batch that touches it, from now on: appends by this
    /// process at once, other processes' when the foreign-append watcher (or `refresh()`) folds them.
    /// Only the newest state is buffered: a slow consumer skips intermediate states, never the last.
    /// The sequence ends when the logbook closes or the consumer stops iterating.
    ///
    /// Costs nothing per append while nobody watches, and one lookup per event of a batch while
    /// someone does; it is how a worker learns at once that its job was cancelled (`run`).
    public func changes(of job: String) -> AsyncStream<JobState> {
        let (stream, continuation) = AsyncStream<JobState>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let key = ExactID(job)
        let id = jobWatchers.add(key, continuation)
        continuation.onTermination = { [weak self] _ in self?.jobWatchers.remove(key, id) }
        if commits.isClosed { continuation.finish() }
        return stream
    }
}

/// Who watches which job (`Logbook.changes(of:)`), and the hand-off of states to them.
final class JobWatchers: Sendable {
    private struct State {
        var nextID = 0
        var byJob: [ExactID: [Int: AsyncStream<JobState>.Continuation]] = [:]
    }

    private let state = Mutex(State())
    /// How many watchers there are; read without the lock on every committed batch.
    private let count = Atomic<Int>(0)

    var isEmpty: Bool { count.load(ordering: .acquiring) == 0 }

    func add(_ job: ExactID, _ continuation: AsyncStream<JobState>.Continuation) -> Int {
        state.withLock { s in
            s.nextID += 1
            s.byJob[job, default: [:]][s.nextID] = continuation
            count.add(1, ordering: .releasing)
            return s.nextID
        }
    }

    func remove(_ job: ExactID, _ id: Int) {
        state.withLock { s in
            guard s.byJob[job]?.removeValue(forKey: id) != nil else { return }
            if s.byJob[job]?.isEmpty == true { s.byJob[job] = nil }
            count.subtract(1, ordering: .releasing)
        }
    }

    /// The watchers of the jobs `events` touch, each with its job's state in `projections` (call
    /// under the projections lock, right after folding the events; deliver outside it).
    func due(for events: some Sequence<RecordedEvent>, in projections: Projections) -> [(AsyncStream<JobState>.Continuation, JobState)] {
        guard !isEmpty else { return [] }
        return state.withLock { s in
            var seen = Set<ExactID>()
            var out: [(AsyncStream<JobState>.Continuation, JobState)] = []
            for e in events {
                let key = ExactID(e.event.job)
                guard let watchers = s.byJob[key], seen.insert(key).inserted, let st = projections.state(of: key.string)
                else { continue }
                for c in watchers.values { out.append((c, st)) }
            }
            return out
        }
    }

    /// Ends every watch (the logbook closed).
    func finishAll() {
        let all = state.withLock { s in
            defer {
                s.byJob = [:]
                count.store(0, ordering: .releasing)
            }
            return s.byJob.values.flatMap(\.values)
        }
        for c in all { c.finish() }
    }
}

extension [(AsyncStream<JobState>.Continuation, JobState)] {
    func deliver() { for (c, s) in self { c.yield(s) } }
}
