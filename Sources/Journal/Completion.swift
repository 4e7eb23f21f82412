#if canImport(Glibc)
import Glibc
#endif

/// A one-shot value a thread can block on until another thread provides it.
final class Completion<Value: Sendable>: @unchecked Sendable {
    private let condition = ConditionLock()
    private var value: Value?

    func fulfil(_ v: Value) {
        condition.withLock { value = v }
        condition.broadcast()
    }

    func wait() -> Value {
        condition.withLock {
            while true {
                if let value { return value }
                condition.wait()
            }
        }
    }
}

/// A pthread mutex with a condition variable (what `Synchronization.Mutex` does not offer).
final class ConditionLock: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let cond = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    init() {
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

    func withLock<R>(_ body: () throws -> R) rethrows -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }

    /// Waits for a signal; call only inside `withLock`.
    func wait() { pthread_cond_wait(cond, mutex) }

    /// Waits for a signal or until the monotonic clock reaches `deadline` (nanoseconds, see
    /// `MonotonicClock.nanoseconds`); false when the deadline passed. Call only inside `withLock`.
    func wait(untilNanoseconds deadline: UInt64) -> Bool {
        var time = timespec(tv_sec: Int(deadline / 1_000_000_000), tv_nsec: Int(deadline % 1_000_000_000))
        return pthread_cond_timedwait(cond, mutex, &time) != ETIMEDOUT
    }

    func broadcast() { pthread_cond_broadcast(cond) }
}

enum MonotonicClock {
    /// Nanoseconds on CLOCK_MONOTONIC (the clock `ConditionLock`'s timed waits use).
    static var nanoseconds: UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }
}
