import AWSClient
import DynamoModel
import Foundation
import Logging
import Replication

/// `ferry run`: the migration as one daemon. Checks the source's stream,
/// optionally creates the target table, backfills (unless a finished
/// backfill is on record), then streams every shard from its start, so every
/// change made since the backfill's snapshot is applied. A restart goes on
/// in the phase it was in: a finished backfill is not repeated, a partial one
/// resumes, streaming resumes from its checkpoint.
public struct RunRunner: Sendable {
    public struct Options: Sendable {
        public var enableStream = false
        public var createTable = false
        /// Export locations to backfill from, in order; empty: a parallel Scan.
        public var exports: [String] = []
        public init() {}
    }

    public let config: FerryConfig
    public let services: Services
    public let logger: Logger
    public let options: Options

    public init(config: FerryConfig, services: Services, logger: Logger, options: Options) {
        self.config = config
        self.services = services
        self.logger = logger
        self.options = options
    }

    /// Backfills at most 20 hours before warning: stream records older than
    /// 24 hours are gone, and streaming must start before they are.
    static let retentionWarning: Double = 20 * 3600

    public func run(signals: SignalTrap) -> Int32 {
        let sleep = StoppableSleep()
        signals.onSignal { _ in sleep.stop() }
        let targetWait = TargetWait(nodes: services.targetNodes, config: config, logger: logger) { sleep.sleep($0) }
        do {
            guard let table = config.source.table else { throw SetupError("source.table is required for ferry run") }
            writePhase(.starting)
            var description = try services.source.describeTable(table)
            if !description.streamEnabled || description.latestStreamArn == nil {
                guard options.enableStream else {
                    throw SetupError("""
                        table \(table) has no DynamoDB stream, so changes made during the backfill would be lost. Enable one:
                          aws dynamodb update-table --table-name \(table) \
                        --stream-specification StreamEnabled=true,StreamViewType=NEW_AND_OLD_IMAGES
                        or run ferry run --enable-stream to let Ferry do it.
                        """)
                }
                logger.notice("enabling the stream of the source table", metadata: ["table": "\(table)"])
                description = try services.source.enableStream(table: table, viewType: .newAndOldImages)
            }
            guard let keySchema = description.primaryKey, let streamArn = description.latestStreamArn ?? (try? services.streamArn()) else {
                throw SetupError("table \(table) reports no key schema or stream")
            }
            if options.createTable {
                writePhase(.creating)
                _ = try targetWait.run("creating the target table") {
                    try CreateTableRunner(config: config, services: services, logger: logger).run()
                }
            }
            try targetWait.run("checking the target table") { try services.checkTargetTable(keySchema: keySchema) }

            // Backfill, unless one finished already.
            let source = options.exports.isEmpty ? "scan:\(table)" : "export:" + options.exports.joined(separator: ",")
            let saved = try BackfillProgress.load(path: config.state.backfill, source: source)
            let snapshotTime = try backfillSnapshotTime(saved: saved)
            try checkStreamCovers(streamArn: streamArn, backfillStart: snapshotTime)
            if saved?.finished != true {
                writePhase(.backfilling)
                let summary = try BackfillDriver(config: config, services: services, logger: logger)
                    .run(exports: options.exports, keySchema: keySchema, expectedItems: description.itemCount, signals: signals) { progress in
                        if Date().timeIntervalSince(snapshotTime) > Self.retentionWarning {
                            logger.warning("the backfill's snapshot is over 20 hours old: stream records older than 24 hours are trimmed, and changes made since the snapshot will be lost if streaming does not start soon")
                        }
                        _ = progress
                    }
                guard summary.complete else {
                    logger.notice("stopped during the backfill; run again to resume it")
                    writePhase(.stopped)
                    return 0
                }
            }

            // Stream from every shard's start: the changes since the snapshot.
            var streaming = config
            streaming.source.streamArn = streamArn
            streaming.stream.startPosition = .trimHorizon
            return StreamRunner(config: streaming, services: services, logger: logger).run(stopOn: signals)
        } catch is TargetWait.Stopped {
            logger.notice("stopped before the target answered")
            writePhase(.stopped)
            return 0
        } catch {
            logger.error("ferry run failed", metadata: ["error": "\(error)"])
            FileHandleStderr.write("ferry run: \(error)\n")
            writePhase(.failed, error: "\(error)")
            return StreamRunner.exitFailure
        }
    }

    /// When the backfill's data was read: the exports' export time (the
    /// earliest), or the start of the scan.
    func backfillSnapshotTime(saved: BackfillProgress?) throws -> Date {
        guard !options.exports.isEmpty else { return saved?.startedAt ?? Date() }
        let backfill = try ExportBackfill(config: config, services: services, logger: logger, locations: options.exports)
        let times = try backfill.manifests().compactMap { $0.2.exportTime ?? $0.2.startTime }
        guard let earliest = times.min() else {
            throw SetupError("the export manifests carry no exportTime, so Ferry cannot check that the stream covers them")
        }
        return earliest
    }

    /// The stream must have existed before the backfill's snapshot, or the
    /// changes made between the two are in neither.
    func checkStreamCovers(streamArn: String, backfillStart: Date) throws {
        let description = try services.streams.describeStream(arn: streamArn, limit: 1)
        guard let created = Self.streamCreation(description) else {
            logger.warning("cannot tell when the stream was created; make sure it existed before the backfill started")
            return
        }
        if created > backfillStart.addingTimeInterval(1) {
            throw SetupError("the stream \(streamArn) was created at \(created), after the backfill started at \(backfillStart): "
                + "changes made in between are in neither. Remove \(config.state.backfill) and run again to backfill anew")
        }
    }

    /// When the stream was enabled: CreationRequestDateTime, or the label at
    /// the end of the ARN (".../stream/2026-01-01T00:00:00.000").
    static func streamCreation(_ d: StreamDescription) -> Date? {
        if let seconds = d.creationRequestDateTime { return Date(timeIntervalSince1970: seconds) }
        guard let label = d.streamArn.components(separatedBy: "/stream/").last else { return nil }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withFullDate, .withTime, .withColonSeparatorInTime, .withDashSeparatorInDate, .withFractionalSeconds]
        formatter.timeZone = TimeZone(identifier: "UTC")
        let trimmed = label.count > 23 ? String(label.prefix(23)) : label  // milliseconds at most
        return formatter.date(from: trimmed) ?? formatter.date(from: label)
    }

    func writePhase(_ phase: StatusReport.Phase, error: String? = nil) {
        var status = StatusReport(version: FerryBuild.version, pid: getpid(), writtenAt: Date(), phase: phase)
        status.sourceTable = config.source.table
        status.targetTable = config.target.table
        status.lastError = error
        try? status.write(to: config.state.status)
    }
}
