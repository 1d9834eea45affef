import AWSClient
#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Logging
import Replication
import Synchronization

/// Shows the progress of a backfill (or a verification): a live line on a
/// terminal, a log line every few seconds otherwise; and keeps the status
/// file current when given one.
public final class ProgressReporter: @unchecked Sendable {
    // Owned by the thread that calls `report` (the runner's wait loop).
    private let started = Date()
    private var lastLog = Date.distantPast
    private let interactive: Bool
    private let logger: Logger
    private let statusPath: String?
    private let expectedItems: Int?
    private let latest = Mutex<StatusReport?>(nil)

    /// The last status written, for the metrics file and systemd.
    public var lastStatus: StatusReport? { latest.withLock { $0 } }
    private let activity: String
    private let nodes: TargetNodes?

    /// - Parameters:
    ///   - activity: names the log line ("backfill progress").
    ///   - nodes: the target's nodes, shown in the status file.
    public init(logger: Logger, statusPath: String?, expectedItems: Int?, interactive: Bool = isatty(2) == 1,
                activity: String = "backfill", nodes: TargetNodes? = nil) {
        self.activity = activity
        self.nodes = nodes
        self.logger = logger
        self.statusPath = statusPath
        self.expectedItems = expectedItems
        self.interactive = interactive
    }

    /// - Parameters:
    ///   - units: (done, total) of files or segments.
    public func report(items: Int, totals: ReplicationCounters.Totals, units: (done: Int, total: Int), unitName: String,
                       final: Bool = false) {
        let elapsed = max(0.001, Date().timeIntervalSince(started))
        let rate = Double(items) / elapsed
        var eta = ""
        if let expected = expectedItems, expected > items, rate > 0 {
            eta = Self.duration(Double(expected - items) / rate)
        }
        if interactive {
            let line = String(format: "\r%@ items  %.0f/s  %d/%d %@  %@%@", "\(items)", rate, units.done, units.total, unitName,
                              eta.isEmpty ? "" : "ETA \(eta)", final ? "\n" : "   ")
            FileHandleStderr.write(line)
        } else if final || Date().timeIntervalSince(lastLog) >= 5 {
            lastLog = Date()
            var metadata: Logger.Metadata = [
                "items": "\(items)", "items_per_second": "\(Int(rate))", "\(unitName)_done": "\(units.done)/\(units.total)",
                "eta": "\(eta.isEmpty ? "-" : eta)",
            ]
            if activity == "backfill" { metadata["dead_lettered"] = "\(totals.deadLettered)" }
            logger.info("\(activity) progress", metadata: metadata)
        }
        guard let statusPath else { return }
        var status = StatusReport(version: FerryBuild.version, pid: getpid(), writtenAt: Date(),
                                  phase: final ? .stopped : .backfilling)
        status.totals = totals
        status.backfill = ["items": items, "\(unitName)Done": units.done, unitName: units.total]
        status.nodes = nodes?.states.map(StatusReport.Node.init)
        try? status.write(to: statusPath)
        latest.withLock { $0 = status }
    }

    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds)
        return s >= 3600 ? "\(s / 3600)h\(s % 3600 / 60)m" : s >= 60 ? "\(s / 60)m\(s % 60)s" : "\(s)s"
    }
}
