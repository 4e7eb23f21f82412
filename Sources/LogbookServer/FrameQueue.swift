import NIOCore
import Synchronization

/// The SSE frames waiting for one client: at most `capacity`. A push to a full queue fails (the
/// client is too far behind and is disconnected); closing with `discarding` drops what waits, so a
/// stalled client's connection holds at most the one frame its blocked write carries.
final class FrameQueue: Sendable {
    private struct State {
        var buffer: [ByteBuffer] = []
        var closed = false
        var waiter: CheckedContinuation<ByteBuffer?, Never>?
    }

    private let capacity: Int
    private let state = Mutex(State())

    init(capacity: Int) { self.capacity = max(1, capacity) }

    /// Queues `frame`; false when the queue is full (nothing is queued then).
    func push(_ frame: ByteBuffer) -> Bool {
        let (accepted, waiter) = state.withLock { s -> (Bool, CheckedContinuation<ByteBuffer?, Never>?) in
            if s.closed { return (true, nil) }
            if let w = s.waiter {
                s.waiter = nil
                return (true, w)
            }
            guard s.buffer.count < capacity else { return (false, nil) }
            s.buffer.append(frame)
            return (true, nil)
        }
        waiter?.resume(returning: frame)
        return accepted
    }

    /// Ends the queue: `next()` returns what is buffered (unless `discarding`), then nil.
    func close(discarding: Bool) {
        let waiter = state.withLock { s -> CheckedContinuation<ByteBuffer?, Never>? in
            s.closed = true
            if discarding { s.buffer = [] }
            defer { s.waiter = nil }
            return s.waiter
        }
        waiter?.resume(returning: nil)
    }

    /// The next frame, or nil once closed and drained. One consumer at a time.
    func next() async -> ByteBuffer? {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<ByteBuffer?, Never>) in
                let now: ByteBuffer?? = state.withLock { s in
                    if !s.buffer.isEmpty { return .some(s.buffer.removeFirst()) }
                    if s.closed { return .some(nil) }
                    s.waiter = c
                    return nil
                }
                if let now { c.resume(returning: now) }
            }
        } onCancel: {
            close(discarding: true)
        }
    }
}
