import Journal
import Lifecycle
import Synchronization

extension Logbook {
    /// Every event with seq > `seq`, first those already stored, then live as they are committed, by
    /// this process or (once the foreign-append watcher has seen them) by another one. The sequence
    /// never skips or repeats a seq; it ends when the logbook closes or the iterating task is cancelled.
    ///
    /// Pull-based: the iterator reads the log in chunks when its consumer asks, and waits for the
    /// next commit when it has caught up. A consumer that stops reading costs one chunk of memory,
    /// never a growing buffer; a slow one simply reads further behind.
    public func follow(after seq: UInt64) -> LiveEvents { LiveEvents(logbook: self, after: seq) }
}

/// The events of a journal from a seq on, live (see `Logbook.follow(after:)`).
public struct LiveEvents: AsyncSequence, Sendable {
    public typealias Element = RecordedEvent
    let logbook: Logbook
    let after: UInt64
    /// Events read from the log at a time.
    static let chunk = 1024

    public func makeAsyncIterator() -> Iterator { Iterator(logbook: logbook, cursor: after) }

    public struct Iterator: AsyncIteratorProtocol {
        let logbook: Logbook
        /// The last seq handed out (or the starting point).
        public private(set) var cursor: UInt64
        var buffer: [RecordedEvent] = []
        var next = 0

        init(logbook: Logbook, cursor: UInt64) {
            self.logbook = logbook
            self.cursor = cursor
        }

        public mutating func next() async throws -> RecordedEvent? {
            while true {
                if next < buffer.count {
                    let e = buffer[next]
                    next += 1
                    cursor = e.seq
                    return e
                }
                // UInt64.max is a valid "after": nothing can ever follow it.
                if Task.isCancelled || cursor == .max { return nil }
                buffer = try logbook.journal.events(from: cursor + 1, limit: LiveEvents.chunk)
                next = 0
                if !buffer.isEmpty { continue }
                guard await logbook.commits.wait(past: cursor) else { return nil }
            }
        }
    }
}
