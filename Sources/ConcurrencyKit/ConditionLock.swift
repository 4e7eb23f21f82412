#if canImport(Glibc)
import Glibc
#endif

/// A pthread mutex with a condition variable, for threads that block (the journal's writer thread
/// and its callers, the read-ahead reader): what `Synchronization.Mutex` does not offer. Tasks never
/// block on it; they await a `OneShot` or a `Doorbell` instead.
package final class ConditionLock: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let cond = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    package init() {
        pthread_mutex_init(mutex, nil)
        // Timed waits measure on the monotonic clock: a wall-clock step never stretches them.
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(cond, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(cond)
        pthread_mutex_destroy(mutex)
        cond.deallocate()
        mutex.deallocate()
    }

    package func withLock<R>(_ body: () throws -> R) rethrows -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }

    /// Waits for a signal; call only inside `withLock`.
    package func wait() { pthread_cond_wait(cond, mutex) }

    /// A point on the monotonic clock the timed waits measure on.
    package struct Deadline: Sendable {
        let nanoseconds: UInt64
        /// `nanoseconds` from now.
        package static func after(nanoseconds: UInt64) -> Deadline {
            var time = timespec()
            clock_gettime(CLOCK_MONOTONIC, &time)
            return Deadline(nanoseconds: UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec) + nanoseconds)
        }
    }

    /// Waits for a signal or until `deadline`; false when the deadline passed. Call only inside `withLock`.
    package func wait(until deadline: Deadline) -> Bool {
        let n = deadline.nanoseconds
        var time = timespec(tv_sec: Int(n / 1_000_000_000), tv_nsec: Int(n % 1_000_000_000))
        return pthread_cond_timedwait(cond, mutex, &time) != ETIMEDOUT
    }

    package func broadcast() { pthread_cond_broadcast(cond) }
}

/// A one-shot value a thread blocks on until another thread provides it (an append's answer to a
/// caller that is a thread, not a task).
package final class Completion<Value: Sendable>: @unchecked Sendable {
    private let condition = ConditionLock()
    private var value: Value?

    package init() {}

    package func fulfil(_ v: Value) {
        condition.withLock { value = v }
        condition.broadcast()
    }

    package func wait() -> Value {
        condition.withLock {
            while true {
                if let value { return value }
                condition.wait()
            }
        }
    }
}
