import HeapModule

#if canImport(Glibc)
import Glibc
#endif

/// One thread of the process's own that runs actions at their time: the bounds of waits that
/// nearly always end first (a query's deadline, a follower's backstop).
///
/// Setting and cancelling an alarm take a lock and wake nobody, unless the alarm is due more than
/// a millisecond before the thread's next wake-up; the thread sleeps until the earliest alarm set
/// (or until one is set), and an alarm cancelled meanwhile at most wakes it once for nothing. A
/// `Task.sleep` per bound, cancelled when the wait ends, cost two to three thread switches each
/// time: the sleeping task is created and run, the dispatch manager thread is woken to arm its
/// timer, and the task is woken again to end (docs/scale-out.md, "Where the time goes").
///
/// An action runs on the clock's thread, once, at or after its time (late by the scheduler only):
/// it must be short and must not block (fulfil a `OneShot`, resume a continuation, cancel a task).
package final class AlarmClock: @unchecked Sendable {
    /// The process's clock; its thread starts with the first alarm.
    package static let shared = AlarmClock()

    /// A set alarm, to cancel it.
    package struct Alarm: Sendable, Hashable {
        fileprivate let id: UInt64
    }

    private let condition = ConditionLock()
    // Guarded by `condition`:
    private var actions: [UInt64: @Sendable () -> Void] = [:]
    /// Alarms by time. An entry whose alarm was cancelled is dropped when it comes to the top, or
    /// when such entries outnumber the live ones (`set`): a 5 s bound set and cancelled at every
    /// commit would otherwise leave five seconds' worth of them in the queue.
    private var queue = Heap<Entry>()
    private var nextID: UInt64 = 0
    /// What the thread does now: nil while it runs (it looks at the queue before it sleeps again),
    /// else the time it sleeps until (`.max`: until an alarm is set).
    private var sleepsUntil: UInt64? = .max
    private var started = false
    /// The thread could not be started: each alarm gets a sleeping task instead.
    package init() {}

    /// Runs `action` on the clock's thread once `delay` has passed, unless cancelled first.
    @discardableResult
    package func set(after delay: Duration, _ action: @escaping @Sendable () -> Void) -> Alarm {
        let at = Self.now() &+ Self.nanoseconds(delay)
        let (alarm, start, wake, threadless) = condition.withLock { () -> (Alarm, Bool, Bool, Bool) in
            nextID += 1
            actions[nextID] = action
            if self.threadless { return (Alarm(id: nextID), false, false, true) }
            queue.insert(Entry(at: at, id: nextID))
            if queue.count >= 1024, queue.count > 4 * actions.count {
                queue = Heap(queue.unordered.filter { actions[$0.id] != nil })
            }
            let start = !started
            started = true
            // Woken only when this alarm is due more than a millisecond before the thread's wake-up.
            let wake = sleepsUntil.map { at < $0 &- Self.slack } ?? false
            return (Alarm(id: nextID), start, wake, false)
        }
        if threadless { sleep(until: at, alarm.id) }
        if start { startThread() }
        if wake { condition.broadcast() }
        return alarm
    }

    /// Cancels `alarm`; true when it had not run (it never will), false when it ran or is running.
    @discardableResult
    package func cancel(_ alarm: Alarm) -> Bool {
        condition.withLock { actions.removeValue(forKey: alarm.id) != nil }
    }

    /// Alarms set and not yet run or cancelled (tests).
    package var pending: Int { condition.withLock { actions.count } }

    /// Entries in the queue, cancelled ones not yet dropped included (tests).
    package var queued: Int { condition.withLock { queue.count } }

    private static let slack: UInt64 = 1_000_000

    private func startThread() {
        do {
            _ = try Threads.start { [self] in run() }
        } catch {
            // No thread (the process is out of them).
            let pending = condition.withLock { () -> [Entry] in
                threadless = true
                return Array(queue.unordered)
            }
            for entry in pending { sleep(until: entry.at, entry.id) }
        }
    }

    private var threadless = false

    private func sleep(until at: UInt64, _ id: UInt64) {
        Task {
            let now = Self.now()
            if at > now { try? await Task.sleep(for: .nanoseconds(Int64(min(at - now, UInt64(Int64.max))))) }
            if let action = condition.withLock({ actions.removeValue(forKey: id) }) { action() }
        }
    }

    /// The thread: runs what is due, then sleeps until the next alarm (or until one is set). It
    /// never ends; the process's exit ends it.
    private func run() {
        while true {
            let due = condition.withLock { () -> [@Sendable () -> Void] in
                let now = Self.now()
                var due: [@Sendable () -> Void] = []
                while let top = queue.min, top.at <= now || actions[top.id] == nil {
                    queue.removeMin()
                    if let action = actions.removeValue(forKey: top.id) { due.append(action) }
                }
                if !due.isEmpty {
                    sleepsUntil = nil
                    return due
                }
                let until = queue.min?.at ?? .max
                sleepsUntil = until
                if until == .max {
                    condition.wait()
                } else {
                    _ = condition.wait(until: ConditionLock.Deadline(nanoseconds: until))
                }
                sleepsUntil = nil
                return []
            }
            for action in due { action() }
        }
    }

    /// An alarm in the queue: its time on the monotonic clock, in nanoseconds.
    private struct Entry: Comparable {
        var at: UInt64
        var id: UInt64
        static func < (a: Entry, b: Entry) -> Bool { (a.at, a.id) < (b.at, b.id) }
    }

    // MARK: time

    /// Now on the monotonic clock, in nanoseconds (the clock `ConditionLock`'s timed waits use).
    private static func now() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }

    private static func nanoseconds(_ d: Duration) -> UInt64 {
        let (seconds, attoseconds) = d.components
        guard seconds >= 0 else { return 0 }
        let (whole, overflow) = UInt64(seconds).multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? .max / 2 : min(.max / 2, whole &+ UInt64(attoseconds / 1_000_000_000))
    }
}
