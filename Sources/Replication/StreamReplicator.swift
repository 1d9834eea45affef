import AWSClient
import Dispatch
import DynamoModel
import Foundation
import Logging
import Synchronization

/// Settings of a ``StreamReplicator``.
public struct StreamReplicatorOptions: Sendable {
    public enum StartPosition: Sendable, Equatable { case trimHorizon, latest }

    public var streamArn: String
    public var mapping: MappingOptions
    /// Where shards start that no checkpoint knows, on the first run.
    public var startPosition = StartPosition.trimHorizon
    /// Skip past trimmed records instead of stopping. Never the default.
    public var skipTrimmedGaps = false
    /// The longest pause between polls of an idle shard.
    public var idleBackoffMax = 1.0
    /// Threads that poll shards (GetShardIterator, GetRecords), whatever
    /// the number of shards.
    public var readers = 4
    /// Idle polls per second over all shards; a shard that returned records
    /// is polled again at once, outside this budget.
    public var maxPollsPerSecond = 500.0
    /// The shortest pause between full listings of the stream (longer with
    /// many shards: see ``ReplicationCore/fullDiscoveryInterval``).
    public var discoveryInterval = 5.0
    /// DescribeStream pages per second while listing (DynamoDB allows 10).
    public var describePagesPerSecond = 5.0
    public var checkpointInterval = 1.0
    public var getRecordsLimit = 1000
    /// How long DynamoDB keeps stream records.
    public var retention: Double = 24 * 3600
    /// Seconds allowed to drain the lanes at shutdown.
    public var drainDeadline = 30.0
    /// Seconds without progress, while records wait, before a stall is declared.
    public var stallSeconds = 120.0
    /// Several workers share the stream through a lease table: shards are
    /// read only when ``StreamReplicator/own(_:from:)`` says so.
    public var leased = false
    /// Reverse replication: records created before this time (epoch
    /// seconds) are not applied (``Checkpoint/Cutover``).
    public var notBefore: Double?
    public var sourceTable: String?
    public var statusPath: String?
    public var version = "dev"

    public init(streamArn: String, mapping: MappingOptions) {
        self.streamArn = streamArn
        self.mapping = mapping
    }

    var coreOptions: ReplicationCore.Options {
        var o = ReplicationCore.Options(streamArn: streamArn)
        o.startPosition = startPosition
        o.skipTrimmedGaps = skipTrimmedGaps
        o.retention = retention
        o.discoveryInterval = discoveryInterval
        o.checkpointInterval = checkpointInterval
        o.stallSeconds = stallSeconds
        o.leased = leased
        o.notBefore = notBefore
        return o
    }
}

/// How a replication run ended.
public enum ReplicationOutcome: Sendable, Equatable {
    /// Stopped on request (SIGTERM, SIGINT) after draining.
    case stopped
    /// Records were trimmed before Ferry read them: changes are missing in
    /// the target. Details are in the status file.
    case gap(String)
    /// Could not go on (credentials, a missing table, a refused write).
    case failed(String)
}

/// Follows one DynamoDB stream and applies it to the target: the I/O shell
/// around ``ReplicationCore``. It carries the core's actions out: a fixed
/// set of reader threads polls the shards the core starts
/// (``ShardPoller``), a fixed set of writer threads applies the changes
/// (``WriterPool``), one thread lists the stream, one ticks (checkpoint,
/// status file, stalls). The thread count does not grow with the shards.
public final class StreamReplicator: Sendable {
    struct Shell: Sendable {
        var phase = StatusReport.Phase.starting
        var lastError: String?
        var lastCheckpointWrite: Date?
        var outcome: ReplicationOutcome?
        var stalled: String?
        var threadBound: Int?
    }

    public let options: StreamReplicatorOptions
    let streams: DynamoDBStreamsClient
    let source: DynamoDBClient?
    let store: any CheckpointStore
    let counters: ReplicationCounters
    let deadLetters: DeadLetterFile?
    let logger: Logger
    let mapper: RecordMapper
    let core: Mutex<ReplicationCore>
    let shell = Mutex(Shell())
    let stopping = Atomic<Bool>(false)
    /// Successful requests that move records along (writes applied, items
    /// read back from the source), for stalls. Empty polls do not count: a
    /// dead target behind busy readers is still a stall.
    let requestsCompleted = Atomic<Int>(0)
    let finished = DispatchSemaphore(value: 0)
    let timerQueue = DispatchQueue(label: "ferry.replicator.timer")
    let discoveryQueue = DispatchQueue(label: "ferry.replicator.discovery")
    let discoveryRunning = Atomic<Bool>(false)
    private let poolBox = Mutex<WriterPool?>(nil)
    private let admission = Mutex<AdmissionBox?>(nil)  // boxed: see WriterPool.admission
    private let onRunning = Mutex<[@Sendable () -> Void]>([])
    private let pollerBox = Mutex<ShardPoller?>(nil)
    let clock: @Sendable () -> Double

    /// - Parameters:
    ///   - source: reads current items for KEYS_ONLY and OLD_IMAGE streams.
    ///   - clock: wall-clock seconds since 1970 (record times are on it).
    public init(options: StreamReplicatorOptions, streams: DynamoDBStreamsClient, source: DynamoDBClient?,
                checkpoints: any CheckpointStore, counters: ReplicationCounters, deadLetters: DeadLetterFile?,
                logger: Logger, clock: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }) throws {
        self.options = options
        self.streams = streams
        self.source = source
        self.store = checkpoints
        self.counters = counters
        self.deadLetters = deadLetters
        self.logger = logger
        self.clock = clock
        self.mapper = RecordMapper(options: options.mapping)
        let loaded = try checkpoints.load(for: options.streamArn)
        core = Mutex(ReplicationCore(options: options.coreOptions, checkpoint: loaded, now: clock()))
    }

    var pool: WriterPool { poolBox.withLock { $0! } }
    var poller: ShardPoller { pollerBox.withLock { $0! } }

    /// The most threads the process should have while streaming, whatever
    /// the number of shards: the readers, the writers, the timer and the
    /// lister, plus a margin for the process's own (main, signals, status
    /// pump, node discovery, Dispatch's manager, libcurl's resolver).
    public static func threadBound(readers: Int, writers: Int) -> Int { readers + writers + 2 + 10 }

    /// Runs until ``stop()`` or a failure; drains and checkpoints before it returns.
    public func run(target: any TargetWriter, poolOptions: WriterPoolOptions) -> ReplicationOutcome {
        let pool = WriterPool(options: poolOptions, target: target, keySchema: options.mapping.keySchema,
                              counters: counters, deadLetters: deadLetters,
                              onApplied: { [weak self] origins in self?.applied(origins) })
        pool.admit(admission.withLock { $0 }?.decide)
        poolBox.withLock { $0 = pool }
        let poller = ShardPoller(threads: options.readers, pollsPerSecond: options.maxPollsPerSecond, replicator: self)
        pollerBox.withLock { $0 = poller }
        let bound = Self.threadBound(readers: options.readers, writers: poolOptions.writers)
        shell.withLock { $0.threadBound = bound }
        logger.info("streaming", metadata: [
            "stream": "\(options.streamArn)", "reader_threads": "\(options.readers)", "writer_threads": "\(poolOptions.writers)",
            "lanes": "\(poolOptions.lanes)", "thread_bound": "\(bound)"])
        for body in onRunning.withLock({ $0 }) { body() }
        let first = core.withLock { $0.start(now: clock()) }
        // The status file from the first second, before any shard is read.
        writeStatus()
        perform(first)
        if outcome == nil {
            scheduleTick()
            finished.wait()
        }
        return shutdown()
    }

    /// Asks the run to end: readers stop, lanes drain, the last checkpoint
    /// is written. Safe from any thread, more than once.
    public func stop() {
        finish(.stopped)
    }

    var outcome: ReplicationOutcome? { shell.withLock { $0.outcome } }
    var isStopping: Bool { stopping.load(ordering: .relaxed) }

    func finish(_ outcome: ReplicationOutcome) {
        let first = shell.withLock { s -> Bool in
            guard s.outcome == nil else { return false }
            s.outcome = outcome
            if case .failed(let why) = outcome { s.lastError = why }
            if case .gap(let why) = outcome { s.lastError = why }
            return true
        }
        if first {
            stopping.store(true, ordering: .relaxed)
            pollerBox.withLock { $0 }?.wake()
            finished.signal()
        }
    }

    private func shutdown() -> ReplicationOutcome {
        stopping.store(true, ordering: .relaxed)
        shell.withLock { $0.phase = .draining }
        writeStatus()
        let deadline = DispatchTime.now() + options.drainDeadline
        if !poller.join(deadline: deadline) {
            logger.warning("shard readers did not stop before the drain deadline")
        }
        if !pool.drain(deadline: deadline) {
            logger.warning("lanes did not drain before the deadline; unapplied changes will be read again on restart")
        }
        if let fatal = pool.fatalError, outcome == .stopped || outcome == nil {
            shell.withLock { $0.outcome = .failed(fatal.description); $0.lastError = fatal.description }
        }
        // Rewriting an unchanged checkpoint renews its age, which keeps an
        // idle stream from looking stale on the next start; after a gap it
        // would hide that same staleness from the next start (a service
        // manager's restart), so an unchanged checkpoint stays as it was.
        var endedAtGap = false
        if case .gap? = outcome { endedAtGap = true }
        saveCheckpoint(core.withLock { $0.takeCheckpointDelta() }, touch: !endedAtGap)
        let result = outcome ?? .stopped
        shell.withLock { $0.phase = result == .stopped ? .stopped : .failed }
        writeStatus()
        return result
    }

    // MARK: - Carrying out the core's actions

    func perform(_ actions: [ReplicationCore.Action]) {
        for action in actions {
            switch action {
            case .poll(let shard, let position):
                logger.debug("shard reader started", metadata: ["shard": "\(shard)", "position": "\(position)"])
                poller.start(shard: shard, at: position)
            case .discover(let after):
                discover(after: after)
            case .saveCheckpoint(let delta):
                saveCheckpoint(delta, touch: false)
            case .reportGap(let gap):
                logger.error("changes lost: records were trimmed from the stream before Ferry read them",
                             metadata: ["shard": "\(gap.shard)", "after": "\(gap.afterSequence ?? "start")",
                                        "detail": "\(gap.detail)",
                                        "action": "\(gap.skipped ? "skipping ahead (skip_trimmed_gaps)" : "stopping")"])
            case .outOfOrder(let shard, let previous, let sequence):
                // The log handler shows one such warning per 10 s, with a count of the rest.
                logger.warning("a stream record's sequence number does not rise; it is applied, not dropped",
                               metadata: ["shard": "\(shard)", "previous": "\(previous.digits)", "sequence": "\(sequence.digits)"])
            case .stalled(let detail):
                shell.withLock { $0.stalled = detail; $0.lastError = detail }
                logger.error("replication stalled", metadata: ["detail": "\(detail)"])
            case .resumed:
                shell.withLock { $0.stalled = nil }
                logger.notice("replication moves again")
            case .finish(let outcome):
                finish(outcome)
            }
        }
    }

    // MARK: - Acknowledgements

    // MARK: - Leases

    /// This worker now holds `shard`: read it after `checkpoint`.
    public func own(_ shard: String, from checkpoint: SequenceNumber?) {
        perform(core.withLock { $0.own(shard, from: checkpoint, now: clock()) })
    }

    /// This worker gave `shard` up: no more polls, its queued changes are
    /// dropped, late acknowledgements ignored.
    public func disown(_ shard: String) {
        pollerBox.withLock { $0 }?.stop(shard: shard)
        core.withLock { $0.release(shard) }
        poolBox.withLock { $0 }?.cancel(source: shard)
    }

    /// Runs `body` once the readers and writers exist (a lease coordinator
    /// may start shards from then on).
    public func whenRunning(_ body: @escaping @Sendable () -> Void) {
        onRunning.withLock { $0.append(body) }
    }

    /// Whether a shard's changes may still be written (set by a lease
    /// coordinator; checked by the writers before each batch).
    public func admitWrites(_ decide: (@Sendable (String) -> Bool)?) {
        let box = decide.map(AdmissionBox.init)
        admission.withLock { $0 = box }
        poolBox.withLock { $0 }?.admit(decide)
    }

    /// The shards of the latest full listing of the stream.
    public var listedShards: [ShardDescriptor]? { core.withLock { $0.lastListing } }

    /// Records applied (or dead-lettered) since the start: cheaper than a
    /// status report when only progress matters.
    public var appliedRecords: Int { core.withLock { $0.appliedTotal } }

    func applied(_ origins: [Change.Origin]) {
        requestsCompleted.add(1, ordering: .relaxed)
        let now = clock()
        core.withLock { $0.applied(origins, now: now) }
    }

    // MARK: - Timers

    private func scheduleTick() {
        timerQueue.asyncAfter(deadline: .now() + options.checkpointInterval) { [weak self] in
            guard let self, !self.isStopping else { return }
            self.tick()
            self.scheduleTick()
        }
    }

    private func tick() {
        if let fatal = pool.fatalError {
            logger.error("target refused writes", metadata: ["error": "\(fatal.error)"])
            finish(.failed(fatal.description))
            return
        }
        let queued = pool.queued
        let completed = requestsCompleted.load(ordering: .relaxed)
        let actions = core.withLock { $0.tick(now: clock(), queued: queued, requestsCompleted: completed) }
        perform(actions)
        writeStatus()
    }

    func noteError(_ text: String) {
        shell.withLock { $0.lastError = String(text.prefix(300)) }
        logger.warning("\(text)")
    }
}
