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
    public var discoveryInterval = 5.0
    public var checkpointInterval = 1.0
    public var getRecordsLimit = 1000
    /// How long DynamoDB keeps stream records.
    public var retention: Double = 24 * 3600
    /// Seconds allowed to drain the lanes at shutdown.
    public var drainDeadline = 30.0
    public var sourceTable: String?
    public var statusPath: String?
    public var version = "dev"

    public init(streamArn: String, mapping: MappingOptions) {
        self.streamArn = streamArn
        self.mapping = mapping
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

/// Follows one DynamoDB stream and applies it to the target: discovers
/// shards (keeping parents before children), runs one reader per shard,
/// feeds the writer pool, tracks per-shard watermarks, writes checkpoints
/// and the status file, and shuts down cleanly.
public final class StreamReplicator: Sendable {
    struct ShardStats: Sendable {
        var recordsApplied = 0
        var lastApplied: SequenceNumber?
        var caughtUp = false
        var drained = false
        /// Creation time of the last record read (seconds since 1970).
        var lastReadCreatedAt: Double?
    }

    struct State: Sendable {
        var lineage = ShardLineage()
        var watermarks: [String: Watermark] = [:]
        var stats: [String: ShardStats] = [:]
        var started = Set<String>()
        var checkpoint: Checkpoint
        var gaps: [StatusReport.Gap] = []
        var phase = StatusReport.Phase.starting
        var lastError: String?
        var lastCheckpointWrite: Date?
        var outcome: ReplicationOutcome?
        var firstDiscovery = true
    }

    let options: StreamReplicatorOptions
    let streams: DynamoDBStreamsClient
    let source: DynamoDBClient?
    let store: FileCheckpointStore
    let counters: ReplicationCounters
    let deadLetters: DeadLetterFile?
    let logger: Logger
    let mapper: RecordMapper
    let state: Mutex<State>
    let stopping = Atomic<Bool>(false)
    let finished = DispatchSemaphore(value: 0)
    let readers = DispatchGroup()
    let timerQueue = DispatchQueue(label: "ferry.replicator.timer")
    private let poolBox = Mutex<WriterPool?>(nil)

    /// - Parameters:
    ///   - source: reads current items for KEYS_ONLY and OLD_IMAGE streams.
    public init(options: StreamReplicatorOptions, streams: DynamoDBStreamsClient, source: DynamoDBClient?,
                checkpoints: FileCheckpointStore, counters: ReplicationCounters, deadLetters: DeadLetterFile?,
                logger: Logger) throws {
        self.options = options
        self.streams = streams
        self.source = source
        self.store = checkpoints
        self.counters = counters
        self.deadLetters = deadLetters
        self.logger = logger
        self.mapper = RecordMapper(options: options.mapping)
        let loaded = try checkpoints.load(for: options.streamArn)
        var initial = State(checkpoint: loaded ?? Checkpoint(streamArn: options.streamArn))
        initial.firstDiscovery = loaded == nil
        initial.lineage = ShardLineage(finished: (loaded?.shards ?? [:]).filter { $0.value.finished }.map(\.key))
        for (id, progress) in loaded?.shards ?? [:] where !progress.finished {
            initial.watermarks[id] = Watermark(checkpoint: progress.sequence)
        }
        state = Mutex(initial)
    }

    var pool: WriterPool { poolBox.withLock { $0! } }

    /// Runs until ``stop()`` or a failure; drains and checkpoints before it returns.
    public func run(target: any TargetWriter, poolOptions: WriterPoolOptions) -> ReplicationOutcome {
        let pool = WriterPool(options: poolOptions, target: target, keySchema: options.mapping.keySchema,
                              counters: counters, deadLetters: deadLetters,
                              onApplied: { [weak self] origins in self?.applied(origins) })
        poolBox.withLock { $0 = pool }
        checkRetention()
        if outcome == nil {
            discover()
        }
        if outcome == nil {
            state.withLock { $0.phase = .streaming }
            logger.info("streaming", metadata: ["stream": "\(options.streamArn)"])
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

    var outcome: ReplicationOutcome? { state.withLock { $0.outcome } }

    func finish(_ outcome: ReplicationOutcome) {
        let first = state.withLock { s -> Bool in
            guard s.outcome == nil else { return false }
            s.outcome = outcome
            if case .failed(let why) = outcome { s.lastError = why }
            if case .gap(let why) = outcome { s.lastError = why }
            return true
        }
        if first {
            stopping.store(true, ordering: .relaxed)
            finished.signal()
        }
    }

    private func shutdown() -> ReplicationOutcome {
        stopping.store(true, ordering: .relaxed)
        state.withLock { $0.phase = .draining }
        writeStatus()
        let deadline = DispatchTime.now() + options.drainDeadline
        if readers.wait(timeout: deadline) == .timedOut {
            logger.warning("shard readers did not stop before the drain deadline")
        }
        if !pool.drain(deadline: deadline) {
            logger.warning("lanes did not drain before the deadline; unapplied changes will be read again on restart")
        }
        if let fatal = pool.fatalError, outcome == .stopped || outcome == nil {
            state.withLock { $0.outcome = .failed(fatal.description); $0.lastError = fatal.description }
        }
        // Rewriting an unchanged checkpoint renews its age, which keeps an
        // idle stream from looking stale on the next start; after a gap it
        // would hide that same staleness from the next start (a service
        // manager's restart), so an unchanged checkpoint stays as it was.
        var endedAtGap = false
        if case .gap? = outcome { endedAtGap = true }
        saveCheckpoint(force: !endedAtGap)
        let result = outcome ?? .stopped
        state.withLock { $0.phase = result == .stopped ? .stopped : .failed }
        writeStatus()
        return result
    }

    // MARK: - Acknowledgements

    func applied(_ origins: [Change.Origin]) {
        // Group by shard before taking the lock (a batch holds a few
        // shards at most), so the lock is held for a few lookups, not three
        // per record: the shard readers wait on the same lock.
        var groups: [(source: String, sequences: [SequenceNumber])] = []
        for origin in origins {
            if let i = groups.lastIndex(where: { $0.source == origin.source }) {
                groups[i].sequences.append(origin.sequence)
            } else {
                groups.append((origin.source, [origin.sequence]))
            }
        }
        state.withLock { s in
            for (source, sequences) in groups {
                s.watermarks[source]?.acknowledge(contentsOf: sequences)
                s.stats[source, default: ShardStats()].recordsApplied += sequences.count
                s.stats[source]?.lastApplied = s.watermarks[source]?.checkpoint
                Self.finishIfDone(source, &s)
            }
        }
    }

    /// A drained shard whose records are all applied is finished.
    static func finishIfDone(_ shard: String, _ s: inout State) {
        guard s.stats[shard]?.drained == true, (s.watermarks[shard]?.inFlight ?? 0) == 0,
              s.lineage.phases[shard] != .finished else { return }
        s.lineage.finished(shard)
    }

    // MARK: - Timers

    private func scheduleTick() {
        timerQueue.asyncAfter(deadline: .now() + options.checkpointInterval) { [weak self] in
            guard let self, !self.stopping.load(ordering: .relaxed) else { return }
            self.tick()
            self.scheduleTick()
        }
    }

    private let _lastDiscovery = Mutex<Double>(0)

    private func tick() {
        if let fatal = pool.fatalError {
            logger.error("target refused writes", metadata: ["error": "\(fatal.error)"])
            finish(.failed(fatal.description))
            return
        }
        saveCheckpoint(force: false)
        writeStatus()
        let now = monotonicSeconds()
        let due = _lastDiscovery.withLock { last -> Bool in
            guard now - last >= options.discoveryInterval else { return false }
            last = now
            return true
        }
        if due { discover() }
    }

    func requestDiscovery() {
        timerQueue.async { [weak self] in
            guard let self, !self.stopping.load(ordering: .relaxed) else { return }
            self._lastDiscovery.withLock { $0 = monotonicSeconds() }
            self.discover()
        }
    }
}
