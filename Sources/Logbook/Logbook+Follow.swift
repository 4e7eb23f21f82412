import Journal
import Lifecycle
import Synchronization

extension Logbook {
    /// Every event with seq > `seq`, first those already stored, then live as they are committed.
    /// The stream never skips or repeats a seq; it ends when the logbook closes.
    public func follow(after seq: UInt64) -> AsyncThrowingStream<RecordedEvent, any Error> {
        let (stream, continuation) = AsyncThrowingStream<RecordedEvent, any Error>.makeStream()
        let id = followers.withLock { $0.register(continuation, after: seq) }
        continuation.onTermination = { [weak self] _ in self?.followers.withLock { $0.remove(id) } }
        Task.detached { [weak self] in
            guard let self else { return }
            // Backfill from the log in chunks; live events arriving meanwhile are buffered.
            var cursor = seq
            do {
                while true {
                    let chunk = try self.journal.events(from: cursor + 1, limit: 4096)
                    guard !chunk.isEmpty else { break }
                    for e in chunk { continuation.yield(e) }
                    cursor = chunk[chunk.count - 1].seq
                    if self.followers.withLock({ $0.catchUp(id, backfilledThrough: cursor) }) { return }
                }
                _ = self.followers.withLock { $0.catchUp(id, backfilledThrough: cursor, final: true) }
            } catch {
                continuation.finish(throwing: error)
            }
        }
        return stream
    }
}

/// Live followers. Each is either backfilling from the log (live events are buffered) or live.
struct FollowerRegistry: Sendable {
    struct Follower: Sendable {
        var continuation: AsyncThrowingStream<RecordedEvent, any Error>.Continuation
        var cursor: UInt64
        var backfilling = true
        var buffer: [RecordedEvent] = []
    }

    private var followers: [Int: Follower] = [:]
    private var nextID = 0

    mutating func register(_ c: AsyncThrowingStream<RecordedEvent, any Error>.Continuation, after seq: UInt64) -> Int {
        nextID += 1
        followers[nextID] = Follower(continuation: c, cursor: seq)
        return nextID
    }

    mutating func remove(_ id: Int) { followers[id] = nil }

    /// Records backfill progress. If the buffered live events continue from there (or `final`), they
    /// are flushed, the follower goes live and this returns true.
    mutating func catchUp(_ id: Int, backfilledThrough seq: UInt64, final: Bool = false) -> Bool {
        guard var f = followers[id] else { return true }
        f.cursor = max(f.cursor, seq)
        let joins = f.buffer.first.map { $0.seq <= f.cursor + 1 } ?? false
        guard final || joins else {
            followers[id] = f
            return false
        }
        for e in f.buffer where e.seq > f.cursor {
            f.continuation.yield(e)
            f.cursor = e.seq
        }
        f.buffer = []
        f.backfilling = false
        followers[id] = f
        return true
    }

    mutating func deliver(_ events: [RecordedEvent]) {
        for (id, var f) in followers {
            if f.backfilling {
                f.buffer.append(contentsOf: events)
            } else {
                for e in events where e.seq > f.cursor {
                    f.continuation.yield(e)
                    f.cursor = e.seq
                }
            }
            followers[id] = f
        }
    }

    mutating func finishAll() {
        for f in followers.values { f.continuation.finish() }
        followers = [:]
    }
}
