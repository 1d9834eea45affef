/// When each shard is polled next, and a budget for idle polls.
///
/// Shards wait in two queues ordered by due time. A shard whose last page
/// had records is *hot*: due again at once, outside the budget, so a busy
/// shard is read as fast as it fills. A shard whose last page was empty is
/// *idle*: it backs off, and each idle poll also takes a token from a
/// bucket refilled at `pollsPerSecond`, so thousands of quiet shards cost a
/// fixed number of requests per second. With 5,000 idle shards and 500
/// polls per second, a quiet shard is looked at about every 10 s: that is
/// the wake-up latency of its first new record.
///
/// A shard is in the schedule at most once; the shell takes it out to poll
/// it and puts it back afterwards, so one request at most is in flight per
/// shard. Pure logic with the clock passed in.
public struct PollSchedule: Sendable {
    public enum Next: Sendable, Equatable {
        case poll(String)
        /// Nothing is due before this time (``infinity`` when empty).
        case wait(until: Double)
    }

    struct Entry: Sendable {
        var dueAt: Double
        var order: Int
        var shard: String
    }

    private var hot = Heap()
    private var idle = Heap()
    private var order = 0
    private let pollsPerSecond: Double
    private let burst: Double
    private var tokens: Double
    private var refilledAt: Double

    /// - Parameter pollsPerSecond: the budget of idle polls; hot polls are outside it.
    public init(pollsPerSecond: Double, now: Double) {
        self.pollsPerSecond = max(0.1, pollsPerSecond)
        burst = max(1, self.pollsPerSecond / 10)
        tokens = burst
        refilledAt = now
    }

    /// Puts `shard` back: `idle` when its last poll found nothing.
    public mutating func add(_ shard: String, at dueAt: Double, idle isIdle: Bool) {
        order += 1
        let entry = Entry(dueAt: dueAt, order: order, shard: shard)
        if isIdle { idle.push(entry) } else { hot.push(entry) }
    }

    /// The shard to poll now, or when to ask again.
    public mutating func next(now: Double) -> Next {
        if let top = hot.top, top.dueAt <= now {
            return .poll(hot.pop().shard)
        }
        var wakeAt = hot.top?.dueAt ?? .infinity
        if let top = idle.top {
            if top.dueAt <= now {
                refill(now: now)
                if tokens >= 1 {
                    tokens -= 1
                    return .poll(idle.pop().shard)
                }
                // Wait for a handful of tokens, not one: a poll per wake-up
                // would cost a thread switch per idle poll.
                let wanted = min(burst, 8)
                wakeAt = min(wakeAt, now + (wanted - tokens) / pollsPerSecond)
            } else {
                wakeAt = min(wakeAt, top.dueAt)
            }
        }
        return .wait(until: wakeAt)
    }

    /// Whether another shard could be polled right now (to wake a helper).
    public func hasDue(now: Double) -> Bool {
        if let top = hot.top, top.dueAt <= now { return true }
        if let top = idle.top, top.dueAt <= now {
            return tokens + (now - refilledAt) * pollsPerSecond >= 1
        }
        return false
    }

    /// Drops a shard (the run stops following it); O(n), rare.
    public mutating func remove(_ shard: String) {
        hot.removeAll { $0.shard == shard }
        idle.removeAll { $0.shard == shard }
    }

    private mutating func refill(now: Double) {
        tokens = min(burst, tokens + (now - refilledAt) * pollsPerSecond)
        refilledAt = now
    }

    /// A binary min-heap of entries by due time, then insertion order.
    struct Heap: Sendable {
        private var items: [Entry] = []

        var count: Int { items.count }
        var top: Entry? { items.first }

        private static func less(_ a: Entry, _ b: Entry) -> Bool {
            a.dueAt < b.dueAt || (a.dueAt == b.dueAt && a.order < b.order)
        }

        mutating func push(_ e: Entry) {
            items.append(e)
            var i = items.count - 1
            while i > 0 {
                let parent = (i - 1) / 2
                guard Self.less(items[i], items[parent]) else { break }
                items.swapAt(i, parent)
                i = parent
            }
        }

        mutating func pop() -> Entry {
            let first = items[0]
            let last = items.removeLast()
            if !items.isEmpty {
                items[0] = last
                siftDown(0)
            }
            return first
        }

        mutating func removeAll(where match: (Entry) -> Bool) {
            let before = items.count
            items.removeAll(where: match)
            guard items.count != before else { return }
            for i in stride(from: items.count / 2, through: 0, by: -1) { siftDown(i) }
        }

        private mutating func siftDown(_ start: Int) {
            var i = start
            while true {
                let l = 2 * i + 1, r = l + 1
                var m = i
                if l < items.count && Self.less(items[l], items[m]) { m = l }
                if r < items.count && Self.less(items[r], items[m]) { m = r }
                if m == i { return }
                items.swapAt(i, m)
                i = m
            }
        }
    }
}
