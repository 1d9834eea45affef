import AWSClient
import Dispatch
import DynamoModel
import Synchronization

/// Settings of a ``WriterPool``.
public struct WriterPoolOptions: Sendable {
    /// Lanes: FIFO queues of changes, by key hash. Data, not threads.
    public var lanes = 8
    /// Threads that send lanes' batches to the target (Dispatch queues
    /// each running one loop): the pool's whole thread count.
    public var writers = 4
    /// Writes per BatchWriteItem (25 for DynamoDB, up to 100 for Alternator).
    public var batchSize = 25
    /// How long a lane waits for more changes before it sends a part batch.
    public var lingerSeconds = 0.005
    /// Changes queued per lane before `submit` waits.
    public var laneCapacity = 4096
    /// Backoff between attempts at one batch (throttling, 5xx, UnprocessedItems).
    public var backoff = Backoff(transientBase: 0.025, throttlingBase: 0.1, cap: 5)
    /// Write capacity units per second over the whole pool (see
    /// ``BatchSender/writeUnits(_:)``); 0: no limit. Throttling lowers the
    /// rate for a while either way (see ``WriteRateCore``).
    public var maxWriteUnitsPerSecond = 0

    public init() {}
}

/// Why a pool stopped on its own.
public struct WriterPoolFailure: Error, Sendable, CustomStringConvertible {
    public var error: AWSClientError
    public var description: String { "the target refused writes: \(error)" }
}

/// Lanes of changes served by a fixed set of writer threads.
///
/// A change goes to the lane of its key's hash, and a lane is served by one
/// writer at a time, first in first out, so every key's changes are
/// applied in order. A lane is due when it holds a full batch or its oldest
/// change has waited `lingerSeconds`; a free writer takes the due lane that
/// waited longest, sends up to a batch of its changes, and gives it back.
/// `lanes: 256` is 256 queues, not 256 threads: the thread count is
/// `writers`, fixed at start.
///
/// Readers hand over whole pages (``submit(contentsOf:)``): one lock per
/// page, not per change. When a lane is full the reader waits, so memory
/// stays flat whatever the backlog.
public final class WriterPool: @unchecked Sendable {
    public let options: WriterPoolOptions

    private struct Lane {
        var queue = Ring<Change>()
        var busy = false
        /// In the ready list (valid entry: same generation).
        var scheduled = false
        var generation = 0
        var dueAt = 0.0
        var inFullList = false
    }

    // All of the following under `monitor`.
    private let monitor = Monitor()
    private let work: Monitor.Condition
    private let space: Monitor.Condition
    private let idle: Monitor.Condition
    private var lanes: [Lane]
    private var ready = FIFO<(lane: Int, generation: Int)>()
    private var full = FIFO<Int>()
    private var queuedCount = 0
    private var busyCount = 0
    private var flushing = 0
    /// Threads waiting for room in a lane, or for the lanes to empty: a
    /// wake-up is sent only when somebody waits (each costs a system call).
    private var waitingForSpace = 0
    private var waitingForIdle = 0
    private var closing = false
    private var stopped = false

    private let aborting = Atomic<Bool>(false)
    /// Boxed: a closure kept directly in a `Mutex` is reabstracted on the
    /// way into and out of each `withLock`'s inout access, and the write-back
    /// stores the wrapped closure, so every batch added two thunks to the
    /// chain every later call runs through (after a few thousand batches, a
    /// call cost tens of microseconds). A class reference goes in and out
    /// unchanged.
    private let admission = Mutex<AdmissionBox?>(nil)
    private let failure = Mutex<WriterPoolFailure?>(nil)
    private let writersDone = DispatchGroup()
    private let sender: BatchSender
    /// The pool-wide write rate (AIMD on throttling).
    public let writeRate: WriteRate

    /// - Parameters:
    ///   - keySchema: the target table's key, to match UnprocessedItems to changes.
    ///   - onApplied: called on a writer thread with the origins of every
    ///     change the target acknowledged (or that was dead-lettered).
    ///   - writeRate: the rate limiter (tests inject one with their own
    ///     clock); by default one from `options.maxWriteUnitsPerSecond`.
    public init(options: WriterPoolOptions, target: any TargetWriter, keySchema: KeySchema,
                counters: ReplicationCounters, deadLetters: DeadLetterFile?,
                onApplied: @escaping @Sendable ([Change.Origin]) -> Void,
                random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) },
                writeRate: WriteRate? = nil) {
        precondition(options.lanes > 0 && options.writers > 0 && options.laneCapacity > 0)
        self.options = options
        let rate = writeRate ?? WriteRate(settings: .init(maximum: Double(options.maxWriteUnitsPerSecond)),
                                             onLimit: { limit in counters.add { $0.writeRateLimit = Int((limit ?? 0).rounded()) } })
        self.writeRate = rate
        sender = BatchSender(shared: .init(options: options, target: target, keySchema: keySchema, counters: counters,
                                           deadLetters: deadLetters, onApplied: onApplied, random: random, rate: rate))
        lanes = (0..<options.lanes).map { _ in Lane() }  // a ring each, not one shared
        work = monitor.makeCondition()
        space = monitor.makeCondition()
        idle = monitor.makeCondition()
        for index in 0..<options.writers {
            writersDone.enter()
            DispatchQueue(label: "ferry.writer.\(index)").async { [self] in
                writerLoop()
                writersDone.leave()
            }
        }
    }

    // MARK: - Submitting

    /// Queues a change on its key's lane; waits while that lane is full.
    public func submit(_ change: Change) {
        submit(contentsOf: CollectionOfOne(change))
    }

    /// Queues changes in order, each on its key's lane, under one lock;
    /// waits while a lane is full. After an abort or a fatal error the
    /// changes are dropped unacknowledged (read again on restart).
    public func submit(contentsOf changes: some Collection<Change>) {
        guard !changes.isEmpty else { return }
        let now = monotonicSeconds()
        monitor.lock()
        var woke = 0
        for change in changes {
            let index = change.key.lane(count: lanes.count)
            while lanes[index].queue.count >= options.laneCapacity && !stopped {
                if woke > 0 { work.broadcast(); woke = 0 }
                waitingForSpace += 1
                monitor.wait(space)
                waitingForSpace -= 1
            }
            if stopped { break }
            lanes[index].queue.append(change)
            queuedCount += 1
            if schedule(index, now: now) { woke += 1 }
        }
        monitor.unlock()
        if woke == 1 { work.signal() } else if woke > 1 { work.broadcast() }
    }

    /// Puts a lane in the ready list if it has changes and nobody serves
    /// it; a lane reaching a full batch joins the full list. Returns true
    /// when a writer should be woken. Called under the lock.
    private func schedule(_ index: Int, now: Double, dueNow: Bool = false) -> Bool {
        guard !lanes[index].busy, !lanes[index].queue.isEmpty else { return false }
        var wake = false
        if !lanes[index].scheduled {
            lanes[index].scheduled = true
            lanes[index].generation &+= 1
            lanes[index].dueAt = dueNow ? now : now + options.lingerSeconds
            ready.append((index, lanes[index].generation))
            wake = true
        }
        if !lanes[index].inFullList && lanes[index].queue.count >= options.batchSize {
            lanes[index].inFullList = true
            full.append(index)
            wake = true
        }
        return wake
    }

    // MARK: - Writers

    private func writerLoop() {
        monitor.lock()
        while true {
            guard !stopped else { break }
            let now = monotonicSeconds()
            guard let index = takeDueLane(now: now) else {
                monitor.wait(work, until: nextDueAt())
                continue
            }
            var changes = lanes[index].queue.removeFirst(upTo: options.batchSize)
            lanes[index].busy = true
            busyCount += 1
            queuedCount -= changes.count
            if waitingForSpace > 0 { space.broadcast() }
            monitor.unlock()

            var fatal: AWSClientError?
            var aborted = false
            let decide = admission.withLock({ $0 })?.decide
            if let decide {
                var verdicts: [String: Bool] = [:]
                changes.removeAll { change in
                    guard let source = change.origin?.source else { return false }
                    if let known = verdicts[source] { return !known }
                    let ok = decide(source)
                    verdicts[source] = ok
                    return !ok
                }
            }
            do {
                try sender.apply(changes, isAborting: { aborting.load(ordering: .relaxed) }, admits: decide)
            } catch let error as AWSClientError {
                fatal = error
            } catch {
                aborted = true
            }

            monitor.lock()
            lanes[index].busy = false
            busyCount -= 1
            if let fatal {
                failure.withLock { if $0 == nil { $0 = WriterPoolFailure(error: fatal) } }
                dropAll()
            } else if aborted {
                dropAll()
            } else {
                // This writer takes the lane again on its next turn if
                // nothing else is due first: no other writer need wake.
                _ = schedule(index, now: monotonicSeconds(), dueNow: true)
            }
            if queuedCount == 0 && busyCount == 0 && waitingForIdle > 0 { idle.broadcast() }
        }
        monitor.unlock()
    }

    /// The due lane that waited longest: full lanes first, then lanes whose
    /// linger ran out (all of them while flushing or closing). Under the lock.
    private func takeDueLane(now: Double) -> Int? {
        let everythingDue = flushing > 0 || closing
        while let index = full.first {
            full.removeFirst()
            lanes[index].inFullList = false
            if lanes[index].scheduled && !lanes[index].busy {
                lanes[index].scheduled = false
                return index
            }
        }
        while let entry = ready.first {
            let lane = lanes[entry.lane]
            guard lane.scheduled, lane.generation == entry.generation, !lane.busy else {
                ready.removeFirst()
                continue
            }
            guard everythingDue || lane.dueAt <= now else { return nil }
            ready.removeFirst()
            lanes[entry.lane].scheduled = false
            return entry.lane
        }
        return nil
    }

    /// When the first lingering lane becomes due. Under the lock.
    private func nextDueAt() -> Double {
        while let entry = ready.first {
            let lane = lanes[entry.lane]
            if lane.scheduled && lane.generation == entry.generation && !lane.busy { return lane.dueAt }
            ready.removeFirst()
        }
        return .infinity
    }

    /// Drops every queued change unacknowledged and unblocks everyone.
    /// Under the lock.
    private func dropAll() {
        aborting.store(true, ordering: .relaxed)
        for i in lanes.indices {
            lanes[i].queue.removeAll()
            lanes[i].scheduled = false
            lanes[i].inFullList = false
        }
        ready = FIFO()
        full = FIFO()
        queuedCount = 0
        stopped = true
        work.broadcast()
        space.broadcast()
        idle.broadcast()
    }

    // MARK: - Flush, drain, abort

    /// Sends what every lane holds and waits until the target has it.
    public func flush() {
        monitor.lock()
        flushing += 1
        work.broadcast()
        waitingForIdle += 1
        while (queuedCount > 0 || busyCount > 0) && !stopped { monitor.wait(idle) }
        waitingForIdle -= 1
        flushing -= 1
        monitor.unlock()
    }

    /// Sends everything queued, then stops the writers. Returns false when
    /// `deadline` passed first; the pool then gives up without
    /// acknowledging what it still held (a restart sends it again).
    @discardableResult
    public func drain(deadline: DispatchTime) -> Bool {
        let now = DispatchTime.now().uptimeNanoseconds
        let end = monotonicSeconds() + Double(deadline.uptimeNanoseconds - min(deadline.uptimeNanoseconds, now)) / 1e9
        monitor.lock()
        closing = true
        work.broadcast()
        var drained = true
        waitingForIdle += 1
        while (queuedCount > 0 || busyCount > 0) && !stopped {
            if !monitor.wait(idle, until: end) && monotonicSeconds() >= end {
                drained = false
                break
            }
        }
        waitingForIdle -= 1
        if stopped { drained = false }  // a fatal error dropped what was left
        if !drained { dropAll() }
        stopped = true
        work.broadcast()
        space.broadcast()
        monitor.unlock()
        _ = writersDone.wait(timeout: .now() + 5)
        return drained
    }

    /// Stops at once: queued changes are dropped without acknowledgement.
    public func abort() {
        monitor.withLock { dropAll() }
        _ = writersDone.wait(timeout: .now() + 10)
    }

    /// Checked just before each batch is sent: changes whose source it
    /// refuses (a shard whose lease may have run out while this process was
    /// paused) are dropped unacknowledged instead of written. The last line
    /// of defence after a pause; leases are normally given up before.
    public func admit(_ decide: (@Sendable (String) -> Bool)?) {
        let box = decide.map(AdmissionBox.init)
        admission.withLock { $0 = box }
    }

    /// Drops the queued changes that came from `source` (a shard this
    /// process no longer owns), unacknowledged; lanes mix shards, so the
    /// rest of each lane stays in order. Changes a writer is sending now are
    /// not recalled. Returns how many were dropped.
    @discardableResult
    public func cancel(source: String) -> Int {
        monitor.lock()
        var dropped = 0
        for i in lanes.indices where !lanes[i].queue.isEmpty {
            dropped += lanes[i].queue.removeAll { $0.origin?.source == source }
        }
        queuedCount -= dropped
        if dropped > 0 && waitingForSpace > 0 { space.broadcast() }
        if queuedCount == 0 && busyCount == 0 && waitingForIdle > 0 { idle.broadcast() }
        monitor.unlock()
        return dropped
    }

    /// The first fatal target error, if a writer stopped on one (wrong
    /// credentials, missing table): the pipeline must stop.
    public var fatalError: WriterPoolFailure? { failure.withLock { $0 } }

    /// Changes waiting in the lanes (not counting those being sent).
    public var queued: Int { monitor.withLock { queuedCount } }
}

/// A first-in first-out queue on an array with a moving head: O(1) at
/// both ends, compacted when the dead front outgrows the live part.
struct FIFO<Element>: Sendable where Element: Sendable {
    private var items: [Element] = []
    private var head = 0

    var count: Int { items.count - head }
    var isEmpty: Bool { head == items.count }
    var first: Element? { isEmpty ? nil : items[head] }

    mutating func append(_ element: Element) { items.append(element) }

    mutating func removeFirst() {
        head += 1
        compact()
    }

    /// Removes and returns up to `n` elements from the front.
    /// A copy, so the queue's storage is not shared while it grows again.
    mutating func removeFirst(upTo n: Int) -> [Element] {
        let end = min(items.count, head + n)
        let taken = Array(items[head..<end])
        head = end
        compact()
        return taken
    }

    private mutating func compact() {
        if head == items.count {
            items.removeAll(keepingCapacity: items.capacity <= 8192)
            head = 0
        } else if head > 1024 && head * 2 > items.count {
            items.removeFirst(head)
            head = 0
        }
    }
}

/// A first-in first-out ring of elements that moves them in and out
/// instead of copying them: a change carries several reference-counted
/// parts, and a copy per hand-off costs a retain and a release of each.
/// A reference type (one per lane); used under the pool's lock.
final class Ring<Element>: @unchecked Sendable {
    private var storage: UnsafeMutablePointer<Element>
    private var capacity: Int
    private var head = 0
    private(set) var count = 0

    init(capacity: Int = 16) {
        self.capacity = max(1, capacity)
        storage = .allocate(capacity: self.capacity)
    }

    deinit {
        removeAll()
        storage.deallocate()
    }

    var isEmpty: Bool { count == 0 }

    func append(_ element: consuming Element) {
        if count == capacity { grow() }
        (storage + (head + count) % capacity).initialize(to: element)
        count += 1
    }

    /// Moves up to `n` elements from the front into a new array.
    func removeFirst(upTo n: Int) -> [Element] {
        let k = min(n, count)
        let out = [Element](unsafeUninitializedCapacity: k) { buffer, initialized in
            for i in 0..<k {
                (buffer.baseAddress! + i).initialize(to: (storage + (head + i) % capacity).move())
            }
            initialized = k
        }
        head = (head + k) % capacity
        count -= k
        if count == 0 { head = 0 }
        return out
    }

    func removeAll() {
        for i in 0..<count { (storage + (head + i) % capacity).deinitialize(count: 1) }
        head = 0
        count = 0
    }

    /// Removes the elements that match, keeping the others in order;
    /// returns how many went.
    func removeAll(where match: (Element) -> Bool) -> Int {
        var kept = 0
        for i in 0..<count {
            let element = (storage + (head + i) % capacity).move()
            if match(element) { continue }
            (storage + (head + kept) % capacity).initialize(to: element)
            kept += 1
        }
        let removed = count - kept
        count = kept
        if count == 0 { head = 0 }
        return removed
    }

    private func grow() {
        let bigger = UnsafeMutablePointer<Element>.allocate(capacity: capacity * 2)
        for i in 0..<count { (bigger + i).initialize(to: (storage + (head + i) % capacity).move()) }
        storage.deallocate()
        storage = bigger
        capacity *= 2
        head = 0
    }
}

/// A write admission, kept by reference (see `WriterPool.admission`).
final class AdmissionBox: Sendable {
    let decide: @Sendable (String) -> Bool
    init(_ decide: @escaping @Sendable (String) -> Bool) { self.decide = decide }
}
