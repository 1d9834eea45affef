#if canImport(Glibc)
import Glibc
#endif

/// A mutex with condition variables on it (pthreads), for the few places
/// where threads wait for each other's state: writer threads for work,
/// readers for room in a lane, a drain for idle lanes. Separate conditions
/// wake only the threads that wait for that thing.
final class Monitor: @unchecked Sendable {
    /// One reason to wait, tied to the monitor's mutex.
    final class Condition: @unchecked Sendable {
        fileprivate let cond = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

        fileprivate init() {
            var attr = pthread_condattr_t()
            pthread_condattr_init(&attr)
            // Timed waits on the monotonic clock: a wall-clock jump must not
            // stretch a linger or a deadline.
            pthread_condattr_setclock(&attr, CLOCK_MONOTONIC)
            pthread_cond_init(cond, &attr)
            pthread_condattr_destroy(&attr)
        }

        deinit {
            pthread_cond_destroy(cond)
            cond.deallocate()
        }

        func signal() { pthread_cond_signal(cond) }
        func broadcast() { pthread_cond_broadcast(cond) }
    }

    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)

    init() { pthread_mutex_init(mutex, nil) }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    func makeCondition() -> Condition { Condition() }

    func lock() { pthread_mutex_lock(mutex) }
    func unlock() { pthread_mutex_unlock(mutex) }

    func withLock<T>(_ body: () throws -> T) rethrows -> T {
        lock()
        defer { unlock() }
        return try body()
    }

    /// Waits for `condition` (the mutex must be held).
    func wait(_ condition: Condition) { pthread_cond_wait(condition.cond, mutex) }

    /// Waits for `condition` until `deadline` (``monotonicSeconds()``);
    /// false when the deadline passed.
    @discardableResult
    func wait(_ condition: Condition, until deadline: Double) -> Bool {
        guard deadline.isFinite else { wait(condition); return true }
        var ts = timespec()
        let whole = deadline.rounded(.down)
        ts.tv_sec = Int(whole)
        ts.tv_nsec = Int((deadline - whole) * 1e9)
        return pthread_cond_timedwait(condition.cond, mutex, &ts) == 0
    }
}
