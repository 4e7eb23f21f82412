import Synchronization

/// A value set once and awaited by any number of tasks: the answer to an append that a follower
/// delivers later, the first of several racing answers. The first `fulfil` wins; later ones are
/// ignored and say so, which is how a race ("whichever answers first") is decided.
///
/// Waiting is not cancellable: a waiter gets the value whenever it comes, so an answer is never
/// lost to a cancelled task. Bound a wait with `withDeadline` where one must end.
package final class OneShot<Value: Sendable>: Sendable {
    private let state = Mutex<(value: Value?, waiting: [CheckedContinuation<Value, Never>])>((nil, []))

    package init() {}

    /// Sets the value and wakes every waiter; false (and nothing changes) when it was set already.
    @discardableResult
    package func fulfil(_ value: Value) -> Bool {
        let waiting = state.withLock { s -> [CheckedContinuation<Value, Never>]? in
            guard s.value == nil else { return nil }
            s.value = value
            defer { s.waiting = [] }
            return s.waiting
        }
        guard let waiting else { return false }
        for c in waiting { c.resume(returning: value) }
        return true
    }

    /// The value, once set.
    package var value: Value {
        get async {
            await withCheckedContinuation { c in
                let ready = state.withLock { s -> Value? in
                    if let v = s.value { return v }
                    s.waiting.append(c)
                    return nil
                }
                if let ready { c.resume(returning: ready) }
            }
        }
    }

    /// The value if it is set, without waiting.
    package var current: Value? { state.withLock { $0.value } }
}
