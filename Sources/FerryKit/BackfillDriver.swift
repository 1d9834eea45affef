import DynamoModel
import Foundation
import Logging
import Replication

/// Runs a scan or export backfill with progress output, the status file,
/// metrics, systemd notifications and signal handling; shared by
/// `ferry backfill` and `ferry run`.
public struct BackfillDriver: Sendable {
    public let config: FerryConfig
    public let services: Services
    public let logger: Logger

    public init(config: FerryConfig, services: Services, logger: Logger) {
        self.config = config
        self.services = services
        self.logger = logger
    }

    /// - Parameter exports: export locations in order; empty: a parallel Scan.
    public func run(exports: [String], keySchema: KeySchema, expectedItems: Int?, signals: SignalTrap,
                    onProgress: @escaping @Sendable (BackfillProgress) -> Void = { _ in }) throws -> ScanBackfill.Summary {
        let reporter = ProgressReporter(logger: logger, statusPath: config.state.status, expectedItems: expectedItems,
                                        nodes: services.targetNodes)
        let pump = StatusPump(metricsPath: config.state.metrics, metricsListen: config.state.metricsListen,
                              logger: logger) { reporter.lastStatus }
        pump.start()
        defer { pump.cancel() }
        let summary: ScanBackfill.Summary
        if exports.isEmpty {
            let backfill = try ScanBackfill(config: config, services: services, logger: logger)
            signals.onSignal { _ in pump.stopping(); backfill.stop() }
            let segments = backfill.totalSegments
            summary = try backfill.run(keySchema: keySchema) { progress, totals in
                reporter.report(items: totals.put, totals: totals,
                                units: (progress.segments.values.filter(\.done).count, segments), unitName: "segments")
                onProgress(progress)
            }
        } else {
            let backfill = try ExportBackfill(config: config, services: services, logger: logger, locations: exports)
            signals.onSignal { _ in pump.stopping(); backfill.stop() }
            let total = try backfill.manifests().reduce(0) { $0 + $1.2.files.count }
            summary = try backfill.run(keySchema: keySchema) { progress, totals in
                reporter.report(items: totals.put + totals.deleted, totals: totals,
                                units: (progress.files.values.filter(\.done).count, total), unitName: "files")
                onProgress(progress)
            }
        }
        logger.info(summary.complete ? "backfill complete" : "backfill stopped; run again to resume", metadata: [
            "items": "\(summary.items)", "dead_lettered": "\(summary.deadLettered)",
            "seconds": "\(String(format: "%.1f", summary.seconds))",
        ])
        return summary
    }
}
