import Synchronization

/// Wakes one waiting task: a follower loop that sleeps until there may be work (a notification, an
/// append of its own) or a backstop timeout. A ring with nobody waiting is kept for the next wait,
/// so a wake-up between two waits is never lost.
package final class Doorbell: Sendable {
    private let state = Mutex<(rung: Bool, generation: Int, waiting: CheckedContinuation<Bool, Never>?)>((false, 0, nil))

    package init() {}

    package func ring() {
        let waiting = state.withLock { s -> CheckedContinuation<Bool, Never>? in
            guard let w = s.waiting else {
                s.rung = true
                return nil
            }
            s.waiting = nil
            return w
        }
        waiting?.resume(returning: true)
    }

    /// Returns at the next ring (at once for one since the last wait), after `timeout`, or when the
    /// waiting task is cancelled: true for a ring, false otherwise. One task waits at a time.
    @discardableResult
    package func wait(timeout: Duration) async -> Bool {
        let generation = state.withLock { s -> Int in
            s.generation += 1
            return s.generation
        }
        let alarm = AlarmClock.shared.set(after: timeout) { self.wake(generation) }
        defer { AlarmClock.shared.cancel(alarm) }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Bool, Never>) in
                let now = state.withLock { s -> Bool? in
                    if s.rung {
                        s.rung = false
                        return true
                    }
                    if s.generation != generation { return false }
                    s.waiting = c
                    return nil
                }
                if let now { c.resume(returning: now) }
            }
        } onCancel: {
            wake(generation)
        }
    }

    /// Ends the wait of `generation`, if it is still the one waiting (or marks it ended, if it has
    /// not begun to wait).
    private func wake(_ generation: Int) {
        let waiting = state.withLock { s -> CheckedContinuation<Bool, Never>? in
            guard s.generation == generation else { return nil }
            s.generation += 1  // a wait of this generation not yet parked returns at once
            defer { s.waiting = nil }
            return s.waiting
        }
        waiting?.resume(returning: false)
    }
}
