import AWSClient
import Dispatch
import Logging
import Synchronization

/// The I/O shell around ``LeaseCore``: one thread that reads the lease
/// table, writes this worker's heartbeat, takes and releases leases with
/// conditional writes, writes checkpoints into the rows, and starts or
/// stops shards in the replicator.
/// The replicator hands its checkpoints to ``checkpoints`` (instead of a
/// file), and asks ``LeaseCore/mayWrite(_:now:)`` before each batch.
public final class LeaseCoordinator: Sendable {
    /// The replicator's checkpoint store in lease mode: progress goes to the
    /// lease core, which writes it into the rows it holds.
    public final class Checkpoints: CheckpointStore {
        let core: Mutex<LeaseCore>

        init(core: LeaseCore) { self.core = Mutex(core) }

        /// Start positions come from the leases, not from a document.
        public func load(for streamArn: String) throws -> Checkpoint? { nil }

        public func apply(_ delta: CheckpointDelta) throws {
            core.withLock { c in
                for (shard, progress) in delta.changed {
                    if let sequence = progress.sequence { c.checkpointMoved(shard, to: sequence) }
                    if progress.finished { c.shardFinished(shard) }
                }
            }
        }
    }

    public let table: LeaseTable
    public let checkpoints: Checkpoints
    let logger: Logger
    private let replicatorBox = Mutex<StreamReplicator?>(nil)
    /// The rows as last read, for the takes (condition on what was seen).
    private let rows = Mutex<[String: LeaseRow]>([:])
    private let stopping = Atomic<Bool>(false)
    private let loopDone = DispatchSemaphore(value: 0)
    private let counters = Mutex(LeaseCounters())
    /// The end of each admitted shard's write window, as the core last
    /// decided (``LeaseCore/admissionDeadlines``). Published inside the
    /// core's lock by every call that may change it, before its actions are
    /// carried out, so a writer's check orders with the core's decisions as
    /// if it asked the core; but writers never wait for the lease thread's
    /// longer turns (a tick over thousands of leases, a table read).
    private let admission = Admission()

    private final class Admission: Sendable {
        let deadlines = Mutex<[String: Double]>([:])
    }

    /// Leases taken and lost, and held now (for the status file and metrics).
    public struct LeaseCounters: Sendable, Equatable {
        public var taken = 0
        public var lost = 0
        public var held = 0
    }

    public init(table: LeaseTable, options: LeaseCore.Options, logger: Logger) {
        self.table = table
        self.checkpoints = Checkpoints(core: LeaseCore(options: options))
        self.logger = logger
    }

    /// Starts the lease thread for `replicator` (built with ``checkpoints``
    /// and `leased` set), and makes its writers ask before each batch.
    public func start(_ replicator: StreamReplicator) {
        replicatorBox.withLock { $0 = replicator }
        let admission = admission
        replicator.admitWrites { shard in
            let now = monotonicSeconds()
            return admission.deadlines.withLock { $0[shard].map { now < $0 } ?? false }
        }
        DispatchQueue(label: "ferry.leases").async { [self] in
            while !stopping.load(ordering: .relaxed) {
                perform(decide { $0.tick(now: monotonicSeconds()) })
                usleepSeconds(0.1)
            }
            loopDone.signal()
        }
    }

    /// Stops taking and beating, gives every lease up with its last
    /// checkpoint, so other workers take the shards at once, and deletes
    /// this worker's heartbeat row. Call after the replicator has drained
    /// and saved its last checkpoint.
    public func stop() {
        guard !stopping.exchange(true, ordering: .relaxed) else { return }
        _ = loopDone.wait(timeout: .now() + 5)
        perform(decide { $0.relinquishAll() })
        // A release may wait for an answer still due: tick until every
        // lease is given up, for a few seconds at most.
        let end = monotonicSeconds() + 5
        while !checkpoints.core.withLock({ $0.ownedShards.isEmpty }) && monotonicSeconds() < end {
            perform(decide { $0.tick(now: monotonicSeconds()) })
            usleepSeconds(0.05)
        }
        perform(decide { $0.retireHeartbeat() })
    }

    public var leaseCounters: LeaseCounters {
        var c = counters.withLock { $0 }
        (c.held, c.lost) = checkpoints.core.withLock { ($0.ownedShards.count, $0.leasesLost) }
        return c
    }

    /// This worker's leases, for the status file.
    public func report(now: Double = monotonicSeconds()) -> StatusReport.Leases {
        let c = leaseCounters
        let (share, health, worker) = checkpoints.core.withLock { ($0.share(now: now), $0.health(now: now), $0.options.workerId) }
        return StatusReport.Leases(worker: worker, held: c.held, taken: c.taken, lost: c.lost, shareLow: share.low,
                                   shareHigh: share.high, workers: share.workers, unhealthy: health.healthy ? nil : health.reason)
    }

    // MARK: - Carrying out the core's actions

    /// Runs `body` on the core, then publishes its write windows.
    private func decide<T>(_ body: (inout LeaseCore) -> T) -> T {
        checkpoints.core.withLock { c in
            let result = body(&c)
            let deadlines = c.admissionDeadlines()
            admission.deadlines.withLock { $0 = deadlines }
            return result
        }
    }

    private func perform(_ actions: [LeaseCore.Action]) {
        var queue = actions[...]
        while let action = queue.popFirst() {
            let more = carryOut(action)
            if !more.isEmpty { queue = more[...] + queue }
        }
    }

    /// One action; returns what the core decided in answer.
    private func carryOut(_ action: LeaseCore.Action) -> [LeaseCore.Action] {
        let now = monotonicSeconds()
        let replicator = replicatorBox.withLock { $0 }
        do {
            switch action {
            case .readTable:
                let read = try table.read()
                rows.withLock { r in r = Dictionary(read.rows.map { ($0.shardId, $0) }, uniquingKeysWith: { a, _ in a }) }
                let listed = replicator?.listedShards
                let (actions, lost) = decide { c in
                    let before = c.leasesLost
                    return (c.tableRead(read.rows, heartbeats: read.heartbeats, listed: listed, now: now), c.leasesLost - before)
                }
                if lost > 0 { logger.warning("leases lost: another worker holds the shards now", metadata: ["count": "\(lost)"]) }
                return actions
            case .heartbeat(let counter):
                if try table.beat(counter: counter, lagSeconds: replicator?.largestLag()) {
                    return decide { $0.heartbeatWritten(now: monotonicSeconds()) }
                }
                logger.warning("heartbeat refused: the row is not this worker's", metadata: ["worker": "\(table.workerId)"])
                return decide { $0.heartbeatFailed(now: monotonicSeconds()) }
            case .createOwned(let row):
                if try table.create(row) {
                    counters.withLock { $0.taken += 1 }
                    logger.info("lease taken", metadata: ["shard": "\(row.shardId)", "from": "a new row"])
                    return decide { $0.taken(row, now: monotonicSeconds()) }
                }
                decide { $0.takeFailed(row.shardId) }
            case .deleteHeartbeat(let worker, let counter):
                _ = try table.deleteHeartbeat(of: worker, counter: counter)
            case .take(let shard, let owner, let counter):
                var seen = rows.withLock { $0[shard] } ?? LeaseRow(shardId: shard)
                seen.owner = owner
                seen.counter = counter
                if let row = try table.take(seen) {
                    counters.withLock { $0.taken += 1 }
                    logger.info("lease taken", metadata: ["shard": "\(shard)", "from": "\(owner ?? "nobody")"])
                    return decide { $0.taken(row, now: monotonicSeconds()) }
                }
                decide { $0.takeFailed(shard) }
            case .release(let shard, let counter, let checkpoint):
                _ = try table.release(shard, counter: counter, checkpoint: checkpoint)
            case .writeCheckpoint(let shard, let sequence, let finished):
                if try table.writeCheckpoint(shard, sequence: sequence, finished: finished) {
                    decide { $0.checkpointWritten(shard) }
                } else {
                    return decide { $0.checkpointFailed(shard, conditionFailed: true) }
                }
            case .deleteRow(let shard):
                _ = try table.delete(shard)
            case .startReading(let shard, let from):
                replicator?.own(shard, from: from)
            case .stopReading(let shard):
                replicator?.disown(shard)
            }
        } catch {
            // The store could not be reached: heartbeats and checkpoint
            // writes are retried; the write windows close on their own.
            logger.warning("lease table request failed", metadata: ["action": "\(action)", "error": "\(error)"])
            switch action {
            case .heartbeat: return decide { $0.heartbeatFailed(now: monotonicSeconds()) }
            case .createOwned(let row): decide { $0.takeFailed(row.shardId) }
            case .writeCheckpoint(let shard, _, _): return decide { $0.checkpointFailed(shard, conditionFailed: false) }
            case .take(let shard, _, _): decide { $0.takeFailed(shard) }
            default: break
            }
        }
        return []
    }
}
