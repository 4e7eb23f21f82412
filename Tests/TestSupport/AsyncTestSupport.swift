import Synchronization

/// A clock that moves only when a test says so: `sleep` parks until `advance(by:)` passes its
/// deadline. Tests wait for the sleepers they expect (`waitForSleepers`) instead of for time.
public final class ManualClock: Clock, Sendable {
    public struct Instant: InstantProtocol, Sendable {
        public var offset: Duration
        public func advanced(by d: Duration) -> Instant { Instant(offset: offset + d) }
        public func duration(to other: Instant) -> Duration { other.offset - offset }
        public static func < (a: Instant, b: Instant) -> Bool { a.offset < b.offset }
    }

    private struct Sleeper {
        var deadline: Instant
        var continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var now = Instant(offset: .zero)
        var nextID = 0
        var sleepers: [Int: Sleeper] = [:]
        var cancelledEarly: Set<Int> = []
    }

    private let state = Mutex(State())

    public init() {}

    public var now: Instant { state.withLock { $0.now } }
    public var minimumResolution: Duration { .zero }
    /// How many tasks are parked in `sleep` right now.
    public var sleepers: Int { state.withLock { $0.sleepers.count } }

    public func sleep(until deadline: Instant, tolerance: Duration? = nil) async throws {
        let id = state.withLock { s in
            s.nextID += 1
            return s.nextID
        }
        defer { state.withLock { _ = $0.cancelledEarly.remove(id) } }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
                let now: Result<Void, any Error>? = state.withLock { s in
                    if s.cancelledEarly.contains(id) { return .failure(CancellationError()) }
                    if deadline <= s.now { return .success(()) }
                    s.sleepers[id] = Sleeper(deadline: deadline, continuation: c)
                    return nil
                }
                if let now { c.resume(with: now) }
            }
        } onCancel: {
            let c = state.withLock { s -> CheckedContinuation<Void, any Error>? in
                if let sleeper = s.sleepers.removeValue(forKey: id) { return sleeper.continuation }
                s.cancelledEarly.insert(id)
                return nil
            }
            c?.resume(throwing: CancellationError())
        }
    }

    /// Moves time forward and wakes every sleeper whose deadline has come.
    public func advance(by d: Duration) {
        let due = state.withLock { s in
            s.now = s.now.advanced(by: d)
            let now = s.now
            let ids = s.sleepers.filter { $0.value.deadline <= now }.map(\.key)
            return ids.compactMap { s.sleepers.removeValue(forKey: $0)?.continuation }
        }
        for c in due { c.resume() }
    }

    /// Waits (in real time, up to `timeout` seconds) until at least `count` tasks sleep on this clock.
    public func waitForSleepers(_ count: Int = 1, timeout: Double = patientSeconds) async -> Bool {
        await eventually(timeout: timeout) { self.sleepers >= count }
    }
}

/// How long a test waits for something that normally takes milliseconds. Generous on purpose: on a
/// loaded 2-core machine, tests that block the two cooperative threads (running processes) can
/// starve another test's tasks for a minute; a bound this long fails a broken test, never a slow one.
public let patientSeconds: Double = 300

/// Polls `condition` every few milliseconds until it holds (true) or `timeout` seconds pass (false).
/// For waiting on another task's effect without guessing how long it takes.
public func eventually(timeout: Double = patientSeconds, _ condition: @Sendable () async -> Bool) async -> Bool {
    let deadline = ContinuousClock.now.advanced(by: .milliseconds(Int64(timeout * 1000)))
    while ContinuousClock.now < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(5))
    }
    return await condition()
}

/// A value tasks share: a lock around it, as a class so closures can capture it.
public final class Shared<Value: Sendable>: Sendable {
    private let state: Mutex<Value>
    public init(_ value: Value) { state = Mutex(value) }
    public var value: Value { state.withLock { $0 } }
    public func set(_ value: Value) { state.withLock { $0 = value } }
    @discardableResult
    public func update<R: Sendable>(_ body: (inout Value) -> R) -> R { state.withLock { body(&$0) } }
}

public struct TimedOut: Error, CustomStringConvertible { public var description: String { "timed out" } }

/// The task's value, or `TimedOut` (and the task cancelled, so it ends) when it takes longer than `seconds`.
public func value<T: Sendable>(of task: Task<T, any Error>, within seconds: Double = patientSeconds) async throws -> T {
    let fired = Shared(false)
    let watchdog = Task {
        guard (try? await Task.sleep(for: .milliseconds(Int64(seconds * 1000)))) != nil else { return }
        fired.set(true)
        task.cancel()
    }
    let result = await task.result
    watchdog.cancel()
    if fired.value { throw TimedOut() }
    return try result.get()
}
