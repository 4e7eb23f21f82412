import Synchronization

/// The highest value published so far (a logbook's last committed seq), and the tasks waiting for a
/// higher one: how live followers sleep until there is more to read.
package final class Watermark: Sendable {
    private struct State {
        var lastSeq: UInt64
        var closed = false
        var nextID = 0
        var waiters: [Int: (after: UInt64, continuation: CheckedContinuation<Bool, Never>)] = [:]
        var cancelledEarly: Set<Int> = []
    }

    private let state: Mutex<State>

    package init(_ value: UInt64) { state = Mutex(State(lastSeq: value)) }

    /// Waits until a value beyond `seq` is published (true), the watermark closes (false) or the
    /// task is cancelled (true: the caller sees `Task.isCancelled`).
    package func wait(past seq: UInt64) async -> Bool {
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

    /// Raises the mark to `seq` (a lower one is ignored) and wakes the waits it ends.
    package func publish(_ seq: UInt64) {
        let woken = state.withLock { s -> [CheckedContinuation<Bool, Never>] in
            guard seq > s.lastSeq else { return [] }
            s.lastSeq = seq
            let due = s.waiters.filter { $0.value.after < seq }
            for id in due.keys { s.waiters[id] = nil }
            return due.values.map(\.continuation)
        }
        for c in woken { c.resume(returning: true) }
    }

    package var isClosed: Bool { state.withLock { $0.closed } }

    /// Ends every wait, now and later.
    package func close() {
        let all = state.withLock { s -> [CheckedContinuation<Bool, Never>] in
            s.closed = true
            defer { s.waiters = [:] }
            return s.waiters.values.map(\.continuation)
        }
        for c in all { c.resume(returning: false) }
    }
}
