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

/// The highest seq this logbook knows to be committed, and the followers waiting for more.
final class CommitSignal: Sendable {
    private struct State {
        var lastSeq: UInt64
        var closed = false
        var nextID = 0
        var waiters: [Int: (after: UInt64, continuation: CheckedContinuation<Bool, Never>)] = [:]
        var cancelledEarly: Set<Int> = []
    }

    private let state: Mutex<State>

    init(lastSeq: UInt64) { state = Mutex(State(lastSeq: lastSeq)) }

    /// Waits until a seq beyond `seq` is committed (true), the logbook closes (false) or the task is
    /// cancelled (true: the caller sees `Task.isCancelled`).
    func wait(past seq: UInt64) async -> Bool {
        let id = state.withLock { s in
            s.nextID += 1
            return s.nextID
        }
        // After the handler returns, onCancel can no longer run: forget an early cancellation then.
        defer { state.withLock { _ = $0.cancelledEarly.remove(id) } }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Bool, Never>) in
                let now: Bool? = state.withLock { s in
                    if s.closed { return false }
                    if s.lastSeq > seq || s.cancelledEarly.contains(id) { return true }
                    s.waiters[id] = (seq, c)
                    return nil
                }
                if let now { c.resume(returning: now) }
            }
        } onCancel: {
            let c = state.withLock { s -> CheckedContinuation<Bool, Never>? in
                if let w = s.waiters.removeValue(forKey: id) { return w.continuation }
                s.cancelledEarly.insert(id)
                return nil
            }
            c?.resume(returning: true)
        }
    }

    /// Records that everything through `seq` is committed and wakes the followers it concerns.
    func publish(_ seq: UInt64) {
        let woken = state.withLock { s -> [CheckedContinuation<Bool, Never>] in
            guard seq > s.lastSeq else { return [] }
            s.lastSeq = seq
            let due = s.waiters.filter { $0.value.after < seq }
            for id in due.keys { s.waiters[id] = nil }
            return due.values.map(\.continuation)
        }
        for c in woken { c.resume(returning: true) }
    }

    var isClosed: Bool { state.withLock { $0.closed } }

    /// Ends every wait, now and later.
    func close() {
        let all = state.withLock { s -> [CheckedContinuation<Bool, Never>] in
            s.closed = true
            defer { s.waiters = [:] }
            return s.waiters.values.map(\.continuation)
        }
        for c in all { c.resume(returning: false) }
    }
}
