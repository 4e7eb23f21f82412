import Synchronization

/// Wakes one waiting task: a follower loop that sleeps until there may be work (a notification, an
/// append of its own) or a backstop timeout. A ring with nobody waiting is kept for the next wait,
/// so a wake-up between two waits is never lost.
package final class Doorbell: Sendable {
    private let state = Mutex<(rung: Bool, generation: Int, waiting: CheckedContinuation<Void, Never>?)>((false, 0, nil))

    package init() {}

    package func ring() {
        let waiting = state.withLock { s -> CheckedContinuation<Void, Never>? in
            guard let w = s.waiting else {
                s.rung = true
                return nil
            }
            s.waiting = nil
            return w
        }
        waiting?.resume()
    }

    /// Returns at the next ring (at once for one since the last wait), after `timeout`, or when the
    /// waiting task is cancelled. One task waits at a time.
    package func wait(timeout: Duration) async {
        let generation = state.withLock { s -> Int in
            s.generation += 1
            return s.generation
        }
        let timer = Task {
            try? await Task.sleep(for: timeout)
            if !Task.isCancelled { self.wake(generation) }
        }
        defer { timer.cancel() }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let now = state.withLock { s -> Bool in
                    if s.rung || s.generation != generation {
                        s.rung = false
                        return true
                    }
                    s.waiting = c
                    return false
                }
                if now { c.resume() }
            }
        } onCancel: {
            wake(generation)
        }
    }

    /// Ends the wait of `generation`, if it is still the one waiting (or marks it ended, if it has
    /// not begun to wait).
    private func wake(_ generation: Int) {
        let waiting = state.withLock { s -> CheckedContinuation<Void, Never>? in
            guard s.generation == generation else { return nil }
            s.generation += 1  // a wait of this generation not yet parked returns at once
            defer { s.waiting = nil }
            return s.waiting
        }
        waiting?.resume()
    }
}
