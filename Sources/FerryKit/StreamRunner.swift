import AWSClient
import Dispatch
import DynamoModel
import Foundation
import Logging
import Replication
import Synchronization

/// `ferry stream`: find the stream, check both tables, then replicate until
/// a signal or a failure. Exit status: 0 stopped cleanly, 1 failed, 4 a
/// gap (trimmed records) was found.
public struct StreamRunner: Sendable {
    public static let exitFailure: Int32 = 1
    public static let exitGap: Int32 = 4
    /// The forward direction after `ferry cutover`: not to be restarted
    /// (systemd's RestartPreventExitStatus keeps 2 down).
    public static let exitAfterCutover: Int32 = 2

    /// Starting forward after the cut-over was made.
    struct AfterCutover: Error, CustomStringConvertible {
        var description: String
    }

    public let config: FerryConfig
    public let services: Services
    public let logger: Logger
    /// Kept alive while streaming, when `target.discover_nodes` is on.
    let nodeDiscovery = DiscoveryHolder()
    /// The lease coordinator, in lease mode.
    let leases = LeaseHolder()
    /// Cut short by a stop signal while start-up waits for the target.
    let startupSleep = StoppableSleep()

    public init(config: FerryConfig, services: Services, logger: Logger) {
        self.config = config
        self.services = services
        self.logger = logger
    }

    /// Builds the replicator (checks the setup on the way). The caller
    /// runs it and connects signals to ``StreamReplicator/stop()``.
    public func prepare() throws -> (StreamReplicator, AlternatorTarget, WriterPoolOptions) {
        if let record = try CutoverRecord.read(forCheckpoint: config.state.checkpoint) {
            throw AfterCutover(description: """
                the cut-over to Alternator was made at \(record.at) (ferry cutover): changes now flow back from Alternator \
                (`ferry stream` with the reverse configuration, checkpoint \(record.reverseCheckpoint)). Streaming forward \
                again would copy DynamoDB's changes over the application's newer writes in Alternator. To go forward again \
                after switching the application back to DynamoDB, stop the reverse daemon and remove \
                \(CutoverRecord.path(forCheckpoint: config.state.checkpoint))
                """)
        }
        let arn = try services.streamArn()
        let description = try services.streams.describeStream(arn: arn, limit: 1)
        guard let viewType = description.streamViewType else {
            throw SetupError("stream \(arn) does not report its view type")
        }
        guard let keySchema = TableDescription(tableName: description.tableName ?? "", keySchema: description.keySchema,
                                               attributeDefinitions: []).primaryKey else {
            throw SetupError("stream \(arn) does not report the table's key schema")
        }
        switch viewType {
        case .newImage, .newAndOldImages:
            logger.info("stream records carry the new item; Ferry copies it as it is",
                        metadata: ["view_type": "\(viewType.rawValue)"])
        case .keysOnly, .oldImage:
            logger.warning("stream records do not carry the new item; Ferry reads each changed item from the source (a strongly consistent GetItem per record), which costs read capacity",
                           metadata: ["view_type": "\(viewType.rawValue)"])
        }
        if config.stream.modifyAs == .update && viewType != .newAndOldImages {
            throw SetupError("stream.modify_as=update needs a NEW_AND_OLD_IMAGES stream; this one is \(viewType.rawValue)")
        }
        try targetWait.run("checking the target table") { try services.checkTargetTable(keySchema: keySchema) }

        var mapping = MappingOptions(targetTable: config.target.table!, keySchema: keySchema, viewType: viewType)
        mapping.modifyAs = config.stream.modifyAs == .update ? .update : .put
        mapping.ttlDeletes = config.stream.ttlDeletes == .skip ? .skip : .replicate
        var options = StreamReplicatorOptions(streamArn: arn, mapping: mapping)
        options.startPosition = config.stream.startPosition == .latest ? .latest : .trimHorizon
        options.skipTrimmedGaps = config.stream.skipTrimmedGaps
        options.idleBackoffMax = Double(config.stream.idleBackoffMaxMilliseconds) / 1000
        options.drainDeadline = Double(config.stream.drainDeadlineSeconds)
        options.readers = config.stream.readers
        options.maxPollsPerSecond = Double(config.stream.maxPollsPerSecond)
        options.stallSeconds = Double(config.stream.stallSeconds)
        options.sourceTable = description.tableName ?? config.source.table
        // The status pump writes the status file, adding the target's nodes
        // to the replicator's report.
        options.statusPath = nil
        options.version = FerryBuild.version

        // One lease table for the cut-over record and the leases.
        let leaseTable = config.coordination.mode == .lease
            ? try Self.leaseTable(config: config, services: services, streamArn: arn) : nil
        if config.source.isAlternator {
            options.notBefore = try reverseStart(streamArn: arn, leases: leaseTable)
            options.startPosition = .trimHorizon
        }
        var checkpoints: any CheckpointStore = FileCheckpointStore(path: config.state.checkpoint)
        var coordinator: LeaseCoordinator?
        if let leaseTable {
            let leases = try leaseCoordinator(table: leaseTable)
            checkpoints = leases.checkpoints
            options.leased = true
            coordinator = leases
        }
        let replicator = try StreamReplicator(
            options: options, streams: services.streams, source: services.source,
            checkpoints: checkpoints, counters: ReplicationCounters(),
            deadLetters: try DeadLetterFile(path: config.state.deadLetter), logger: logger)
        if let coordinator {
            leases.set(coordinator)
            replicator.whenRunning { coordinator.start(replicator) }
        }
        let target = AlternatorTarget(table: config.target.table!, nodes: services.targetNodes)
        if config.target.discoverNodes {
            let discovery = services.nodeDiscovery(for: target, logger: logger)
            _ = try? discovery.refresh()
            discovery.start()
            nodeDiscovery.set(discovery)
        }
        return (replicator, target, config.writerPoolOptions)
    }

    /// Runs to the end and returns the process exit status.
    public func run(stopOn signals: SignalTrap) -> Int32 {
        let prepared: (StreamReplicator, AlternatorTarget, WriterPoolOptions)
        let sleep = startupSleep
        signals.onSignal { _ in sleep.stop() }
        do {
            prepared = try prepare()
        } catch is TargetWait.Stopped {
            logger.notice("stopped before streaming started")
            return 0
        } catch let error as AfterCutover {
            logger.error("cannot start streaming", metadata: ["error": "\(error)"])
            FileHandleStderr.write("ferry stream: \(error)\n")
            return Self.exitAfterCutover
        } catch {
            logger.error("cannot start streaming", metadata: ["error": "\(error)"])
            FileHandleStderr.write("ferry stream: \(error)\n")
            return Self.exitFailure
        }
        let (replicator, target, pool) = prepared
        let pump = statusPump(replicator, target)
        signals.onSignal { name in
            logger.notice("stopping: draining the lanes and writing the last checkpoint", metadata: ["signal": "\(name)"])
            pump.stopping()
            replicator.stop()
        }
        pump.start()
        let outcome = replicator.run(target: target, poolOptions: pool)
        leases.stop()  // after the last checkpoint: every lease is given up with it
        pump.stopping()
        pump.finish()
        nodeDiscovery.cancel()
        let totals = replicator.statusReport().totals
        let summary: Logger.Metadata = ["read": "\(totals.read)", "inserted": "\(totals.inserted)", "modified": "\(totals.modified)",
                                        "removed": "\(totals.removed)", "put": "\(totals.put)", "deleted": "\(totals.deleted)",
                                        "dead_lettered": "\(totals.deadLettered)"]
        switch outcome {
        case .stopped:
            logger.info("stopped", metadata: summary)
            return 0
        case .gap(let why):
            logger.critical("stopped at a gap in the stream", metadata: summary.merging(["detail": "\(why)"]) { $1 })
            FileHandleStderr.write("ferry stream: \(why)\n")
            return Self.exitGap
        case .failed(let why):
            logger.error("failed", metadata: summary.merging(["error": "\(why)"]) { $1 })
            FileHandleStderr.write("ferry stream: \(why)\n")
            return Self.exitFailure
        }
    }
}

extension StreamRunner {
    /// Writes the status file and the metrics once a second while
    /// `replicator` runs: its report plus the target's nodes.
    public func statusPump(_ replicator: StreamReplicator, _ target: AlternatorTarget) -> StatusPump {
        let nodes = target.nodes
        return StatusPump(metricsPath: config.state.metrics, statusPath: config.state.status,
                          metricsListen: config.state.metricsListen, logger: logger) {
            var report = replicator.statusReport()
            report.nodes = nodes.states.map(StatusReport.Node.init)
            report.leases = leases.current?.report()
            return report
        }
    }

    /// Reverse replication (Alternator as the source) begins where `ferry
    /// cutover` said: records created before its time are never applied,
    /// on any shard. Without a recorded cut-over it does not start, since
    /// reading Alternator's stream from its start would send every forward
    /// write back to DynamoDB.
    func reverseStart(streamArn: String, leases: LeaseTable?) throws -> Double {
        let recorded: Checkpoint.Cutover?
        let place: String
        if let leases {
            place = "the lease table \(config.coordination.table) for stream \(streamArn)"
            recorded = try leases.readCutover()
        } else {
            place = config.state.checkpoint
            do {
                recorded = try FileCheckpointStore(path: config.state.checkpoint).load(for: streamArn)?.cutover
            } catch {
                throw SetupError("\(error). If the Alternator table's stream was enabled anew after the cut-over, run ferry cutover again with --force")
            }
        }
        guard let cutover = recorded else {
            throw SetupError("""
                no cut-over is recorded in \(place): run `ferry cutover --config <forward config> \
                --reverse-config <this config>` first. It records where the way back begins, so that no change the \
                forward daemon wrote to Alternator is sent back to DynamoDB
                """)
        }
        for path in cutover.forwardStatus ?? [] {
            guard let report = try? StatusReport.read(path: path) else { continue }
            let age = Date().timeIntervalSince(report.writtenAt)
            if age < 15 && [.starting, .creating, .backfilling, .streaming, .draining].contains(report.phase) {
                throw SetupError("""
                    the forward daemon is still running (its status \(path) was written \(Int(age)) s ago, phase \
                    \(report.phase.rawValue)): stop it first (systemctl stop ferry, or SIGTERM). Both directions at once \
                    would send every change back and forth
                    """)
            }
        }
        logger.notice("replicating back from the cut-over: records created before it are skipped",
                      metadata: ["not_before": "\(cutover.notBefore)", "cutover_at": "\(cutover.at)"])
        return cutover.notBefore.timeIntervalSince1970
    }

    /// The lease table and its coordinator (`coordination.mode: lease`).
    func leaseCoordinator(table: LeaseTable) throws -> LeaseCoordinator {
        let workerId = config.leaseWorkerId
        try importCheckpointFile(into: table, streamArn: table.streamArn)
        var options = LeaseCore.Options(workerId: workerId)
        options.leaseSeconds = Double(config.coordination.leaseSeconds)
        options.checkpointsPerSecond = Double(config.coordination.checkpointsPerSecond)
        options.requestTimeout = config.leaseRequestTimeout
        options.scanInterval = min(10, options.leaseSeconds / 3)
        if let why = options.validate() { throw SetupError("coordination: \(why)") }
        logger.info("lease mode", metadata: ["worker": "\(workerId)", "table": "\(config.coordination.table)",
                                             "store": "\(config.coordination.store.rawValue)",
                                             "lease_seconds": "\(config.coordination.leaseSeconds)"])
        return LeaseCoordinator(table: table, options: options, logger: logger)
    }

    /// The lease table of `streamArn`, created if missing. In Alternator
    /// (the target forward, the source on the way back) its writes must be
    /// isolated (LWT); DynamoDB's conditions always are.
    static func leaseTable(config: FerryConfig, services: Services, streamArn: String) throws -> LeaseTable {
        let inSource = config.coordination.store == .source
        let store = inSource ? services.source : services.target
        let alternator = inSource ? config.source.isAlternator : config.target.type == .alternator
        let table = LeaseTable(client: store, table: config.coordination.table, streamArn: streamArn, workerId: config.leaseWorkerId)
        do {
            try table.ensureTable(inAlternator: alternator)
        } catch let error as LeaseTable.SetupError {
            throw SetupError(error.description)
        } catch {
            throw SetupError("lease table \(config.coordination.table) (coordination.store: \(config.coordination.store.rawValue)): \(error)")
        }
        return table
    }

    /// Switching a running migration from file mode to lease mode: the
    /// checkpoint file's shards become rows (with their parents, from a
    /// listing), once: a row that exists is left as it is, and the file is
    /// renamed so it is not read again.
    func importCheckpointFile(into table: LeaseTable, streamArn: String) throws {
        let file = FileCheckpointStore(path: config.state.checkpoint)
        guard let saved = try file.load(for: streamArn), !saved.shards.isEmpty else { return }
        let parents = Dictionary(try services.streams.describeStreamFully(arn: streamArn).shards.map { ($0.shardId, $0.parentShardId) },
                                 uniquingKeysWith: { a, _ in a })
        var created = 0
        for (shard, progress) in saved.shards.sorted(by: { $0.key < $1.key }) {
            let row = LeaseRow(shardId: shard, parents: parents[shard].flatMap { $0 }.map { [$0] } ?? [],
                               checkpoint: progress.sequence, finished: progress.finished)
            if try table.create(row) { created += 1 }
        }
        try FileManager.default.moveItem(atPath: config.state.checkpoint, toPath: config.state.checkpoint + ".imported")
        logger.notice("checkpoint file imported into the lease table; it is no longer used",
                      metadata: ["file": "\(config.state.checkpoint)", "rows": "\(created)", "shards": "\(saved.shards.count)"])
    }

    /// Start-up checks against the target wait (with backoff) while no
    /// target node answers.
    var targetWait: TargetWait {
        let sleep = startupSleep
        return TargetWait(nodes: services.targetNodes, config: config, logger: logger) { sleep.sleep($0) }
    }
}

/// The version Ferry reports in its status file and `--version`.
public enum FerryBuild {
    public static let version = "0.1.0"
}

/// Keeps a runner's lease coordinator, to give its leases up at the end.
final class LeaseHolder: Sendable {
    private let coordinator = Mutex<LeaseCoordinator?>(nil)
    func set(_ c: LeaseCoordinator) { coordinator.withLock { $0 = c } }
    func stop() { coordinator.withLock { $0 }?.stop() }
    var current: LeaseCoordinator? { coordinator.withLock { $0 } }
}

/// Keeps a runner's node discovery alive while it streams.
final class DiscoveryHolder: Sendable {
    private let discovery = Mutex<NodeDiscovery?>(nil)
    func set(_ d: NodeDiscovery) { discovery.withLock { $0 = d } }
    func cancel() { discovery.withLock { $0?.cancel() } }
}
