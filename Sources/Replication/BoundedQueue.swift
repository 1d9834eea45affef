import Dispatch
import Synchronization

/// A FIFO with a fixed capacity: `put` waits while it is full, `take` waits
/// while it is empty. This is the back-pressure between shard readers and
/// writer lanes: when the target falls behind, readers stop reading, and
/// memory stays flat whatever the backlog.
final class BoundedQueue<Element: Sendable>: Sendable {
    private struct Ring: ~Copyable {
        var slots: [Element?]
        var head = 0
        var count = 0

        init(capacity: Int) { slots = Array(repeating: nil, count: capacity) }

        mutating func push(_ e: Element) {
            slots[(head + count) % slots.count] = e
            count += 1
        }

        mutating func pop() -> Element {
            let e = slots[head]!
            slots[head] = nil
            head = (head + 1) % slots.count
            count -= 1
            return e
        }
    }

    let capacity: Int
    private let ring: Mutex<Ring>
    private let items = DispatchSemaphore(value: 0)
    private let spaces: DispatchSemaphore

    init(capacity: Int) {
        precondition(capacity > 0)
        self.capacity = capacity
        ring = Mutex(Ring(capacity: capacity))
        spaces = DispatchSemaphore(value: capacity)
    }

    /// Adds `element`, waiting for room.
    func put(_ element: Element) {
        spaces.wait()
        ring.withLock { $0.push(element) }
        items.signal()
    }

    /// Adds `element` if room comes before `deadline`; false when it did not.
    func put(_ element: Element, until deadline: DispatchTime) -> Bool {
        guard spaces.wait(timeout: deadline) == .success else { return false }
        ring.withLock { $0.push(element) }
        items.signal()
        return true
    }

    /// The oldest element, waiting until `deadline`; nil when none came.
    func take(until deadline: DispatchTime = .distantFuture) -> Element? {
        guard items.wait(timeout: deadline) == .success else { return nil }
        let element = ring.withLock { $0.pop() }
        spaces.signal()
        return element
    }

    /// Up to `limit` of the oldest elements: waits until `deadline` for the
    /// first, then takes what else is already there without waiting (an
    /// uncontended semaphore wait is an atomic decrement, no system call).
    func take(upTo limit: Int, until deadline: DispatchTime) -> [Element] {
        guard items.wait(timeout: deadline) == .success else { return [] }
        var n = 1
        while n < limit && items.wait(timeout: .now()) == .success { n += 1 }
        let taken = ring.withLock { ring in (0..<n).map { _ in ring.pop() } }
        for _ in 0..<n { spaces.signal() }
        return taken
    }

    var count: Int { ring.withLock { $0.count } }
}
