#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Guards the memory map against being moved while a transaction in this process reads it.
///
/// Every transaction holds the lock shared for its lifetime; growing the map or adopting another
/// process's larger map (`mdb_env_set_mapsize`) holds it exclusively, because LMDB remaps in place
/// and pointers into the old map would dangle.
final class ResizeLock: @unchecked Sendable {
    private let lock: UnsafeMutablePointer<pthread_rwlock_t>

    init() {
        lock = .allocate(capacity: 1)
        pthread_rwlock_init(lock, nil)
    }

    deinit {
        pthread_rwlock_destroy(lock)
        lock.deallocate()
    }

    func lockShared() { pthread_rwlock_rdlock(lock) }
    /// Takes the lock shared if that needs no wait; false otherwise.
    func tryLockShared() -> Bool { pthread_rwlock_tryrdlock(lock) == 0 }
    func lockExclusive() { pthread_rwlock_wrlock(lock) }
    func unlock() { pthread_rwlock_unlock(lock) }
}
