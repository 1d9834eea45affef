import AWSClient
import Dispatch
import DynamoModel
import Synchronization

/// Settings of a ``WriterPool``.
public struct WriterPoolOptions: Sendable {
    public var lanes = 8
    /// Writes per BatchWriteItem (25 for DynamoDB, up to 100 for Alternator).
    public var batchSize = 25
    /// How long a lane waits for more changes before it sends a part batch.
    public var lingerSeconds = 0.005
    /// Changes queued per lane before `submit` waits.
    public var laneCapacity = 4096
    /// Backoff between attempts at one batch (throttling, 5xx, UnprocessedItems).
    public var backoff = Backoff(transientBase: 0.025, throttlingBase: 0.1, cap: 5)

    public init() {}
}

/// Why a pool stopped on its own.
public struct WriterPoolFailure: Error, Sendable, CustomStringConvertible {
    public var error: AWSClientError
    public var description: String { "the target refused writes: \(error)" }
}

/// N writer lanes, each a serial Dispatch queue with a bounded inbox. A
/// change goes to the lane of its key's hash, so every key's changes are
/// applied in order; lanes batch, coalesce per key, retry, and report each
/// applied change's origin through `onApplied`.
public final class WriterPool: Sendable {
    public let options: WriterPoolOptions
    private let lanes: [WriterLane]
    private let group = DispatchGroup()
    private let failure = Mutex<WriterPoolFailure?>(nil)
    private let aborting = Atomic<Bool>(false)

    /// - Parameters:
    ///   - keySchema: the target table's key, to match UnprocessedItems to changes.
    ///   - onApplied: called on a lane's queue with the origins of every
    ///     change the target acknowledged (or that was dead-lettered).
    public init(options: WriterPoolOptions, target: any TargetWriter, keySchema: KeySchema,
                counters: ReplicationCounters, deadLetters: DeadLetterFile?,
                onApplied: @escaping @Sendable ([Change.Origin]) -> Void,
                random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }) {
        self.options = options
        var lanes: [WriterLane] = []
        let shared = WriterLane.Shared(options: options, target: target, keySchema: keySchema, counters: counters,
                                       deadLetters: deadLetters, onApplied: onApplied, random: random)
        for index in 0..<options.lanes {
            lanes.append(WriterLane(index: index, shared: shared))
        }
        self.lanes = lanes
        for lane in lanes {
            group.enter()
            lane.queue.async { [self] in
                _ = lane.run(isAborting: { self.aborting.load(ordering: .relaxed) }, onFatal: { error in
                    self.failure.withLock { if $0 == nil { $0 = WriterPoolFailure(error: error) } }
                })
                self.group.leave()
            }
        }
    }

    /// Queues a change on its key's lane; waits while that lane is full.
    public func submit(_ change: Change) {
        lanes[change.key.lane(count: lanes.count)].inbox.put(.change(change))
    }

    /// Sends what every lane holds and waits until the target has it.
    public func flush() {
        let done = DispatchGroup()
        for lane in lanes {
            done.enter()
            lane.inbox.put(.flush(done))
        }
        done.wait()
    }

    /// Sends everything queued, then stops the lanes. Returns false when
    /// `deadline` passed first; the lanes then give up without
    /// acknowledging what they still held (a restart sends it again).
    @discardableResult
    public func drain(deadline: DispatchTime) -> Bool {
        // A lane stuck retrying (the target is down) with a full inbox has
        // no room for the stop message: waiting for room would outlast the
        // deadline, so give up on it there and abort.
        let late = lanes.filter { !$0.inbox.put(.stop, until: deadline) }
        if late.isEmpty, group.wait(timeout: deadline) == .success { return true }
        aborting.store(true, ordering: .relaxed)
        // Aborting lanes drop what they hold, which makes room for the stop.
        for lane in late { _ = lane.inbox.put(.stop, until: .now() + 5) }
        _ = group.wait(timeout: .now() + 5)
        return false
    }

    /// Stops at once: lanes drop what they hold without acknowledging it.
    public func abort() {
        aborting.store(true, ordering: .relaxed)
        for lane in lanes { lane.inbox.put(.stop) }
        _ = group.wait(timeout: .now() + 10)
    }

    /// The first fatal target error, if a lane stopped on one (wrong
    /// credentials, missing table): the pipeline must stop.
    public var fatalError: WriterPoolFailure? { failure.withLock { $0 } }

    /// Changes waiting in lane inboxes.
    public var queued: Int { lanes.reduce(0) { $0 + $1.inbox.count } }
}
