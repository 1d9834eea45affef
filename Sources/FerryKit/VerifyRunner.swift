import AWSClient
import DynamoModel
import Foundation
import Logging
import Replication
import Synchronization
import Verify

extension ReadPacer: ReadThrottle {}

/// The command-line choices of `ferry verify`; the rest comes from the
/// configuration (`verify.*`).
public struct VerifyRequest: Sendable, Equatable {
    /// `--sample N`
    public var sample: Int?
    /// `--segments 3/16`
    public var segments: String?
    /// `--keys FILE`
    public var keysFile: String?
    /// `--repair`
    public var repair = false
    /// `--report PATH`; otherwise `verify.report`.
    public var report: String?

    public init(sample: Int? = nil, segments: String? = nil, keysFile: String? = nil, repair: Bool = false, report: String? = nil) {
        self.sample = sample
        self.segments = segments
        self.keysFile = keysFile
        self.repair = repair
        self.report = report
    }
}

/// `ferry verify`: checks both tables, compares them with a ``Verifier``,
/// prints the summary and returns the exit status (0 in sync, 1 mismatches
/// remain, 2 the comparison itself failed).
public struct VerifyRunner: Sendable {
    public let config: FerryConfig
    public let services: Services
    public let logger: Logger

    public init(config: FerryConfig, services: Services, logger: Logger) {
        self.config = config
        self.services = services
        self.logger = logger
    }

    /// The verifier for `request`, after checking that both tables exist
    /// with the same key, and the report file it writes.
    public func prepare(_ request: VerifyRequest) throws -> (Verifier, MismatchReportFile, TableDescription) {
        guard let sourceTable = config.source.table else { throw SetupError("source.table is required") }
        guard let targetTable = config.target.table else { throw SetupError("target.table is required") }
        let chosen = [request.sample != nil, request.segments != nil, request.keysFile != nil].filter { $0 }.count
        guard chosen <= 1 else { throw SetupError("give at most one of --sample, --segments and --keys") }

        let description = try services.source.describeTable(sourceTable)
        guard let keySchema = description.primaryKey else { throw SetupError("source table \(sourceTable) reports no key schema") }
        try services.checkTargetTable(keySchema: keySchema)

        var options = VerifyOptions(sourceTable: sourceTable, targetTable: targetTable, keySchema: keySchema)
        options.segments = config.verify.segments > 0 ? config.verify.segments : 4 * ProcessInfo.processInfo.activeProcessorCount
        options.workers = config.verify.workers
        if let n = request.sample {
            guard n > 0 else { throw SetupError("--sample takes a positive number of items") }
            options.scope = .sample(n)
        } else if let text = request.segments {
            options.scope = try VerifyScope.parseSegments(text)
        } else if let path = request.keysFile {
            options.scope = .keys(try KeysFile.read(path: path, keySchema: keySchema))
        }
        // Under a rate limit, smaller pages spread the reads evenly.
        let rates = [config.verify.sourceReadsPerSecond, config.verify.targetReadsPerSecond].filter { $0 > 0 }
        if let rate = rates.min() {
            options.pageLimit = max(10, min(1000, rate / max(1, options.segments)))
            options.batchSize = max(1, min(100, rate))
        }
        options.recheckDelay = Double(config.verify.recheckDelayMilliseconds) / 1000
        options.recheckAttempts = config.verify.recheckAttempts
        options.repair = request.repair

        let report = try MismatchReportFile(path: request.report ?? config.verify.report, includeValues: config.verify.reportValues)
        let verifier = Verifier(
            options: options, source: services.source, targets: [services.target], sink: report,
            sourceThrottle: config.verify.sourceReadsPerSecond > 0 ? ReadPacer(rate: config.verify.sourceReadsPerSecond) : nil,
            targetThrottle: config.verify.targetReadsPerSecond > 0 ? ReadPacer(rate: config.verify.targetReadsPerSecond) : nil,
            logger: logger)
        return (verifier, report, description)
    }

    static func unitName(_ pass: VerifyProgress.Pass, scope: VerifyScope) -> String {
        if case .keys = scope { return "key_batches" }
        return pass == .compare ? "segments" : "target_segments"
    }

    /// Runs to the end; prints the summary on standard output.
    public func run(_ request: VerifyRequest, stopOn signals: SignalTrap? = nil) -> Int32 {
        let prepared: (Verifier, MismatchReportFile, TableDescription)
        do {
            prepared = try prepare(request)
        } catch {
            logger.error("cannot verify", metadata: ["error": "\(error)"])
            FileHandleStderr.write("ferry verify: \(error)\n")
            return VerifySummary.exitFailed
        }
        let (verifier, report, description) = prepared
        signals?.onSignal { name in
            logger.notice("stopping the verification", metadata: ["signal": "\(name)"])
            verifier.stop()
        }
        var expected: Int?
        switch verifier.options.scope {
        case .all: expected = description.itemCount.map { $0 * (verifier.options.checkExtraItems ? 2 : 1) }
        case .sample(let n): expected = n * (verifier.options.checkExtraItems ? 2 : 1)
        case .keys(let keys): expected = keys.count
        case .segments: expected = nil
        }
        let reporter = ProgressReporter(logger: logger, statusPath: nil, expectedItems: expected, activity: "verify")
        let last = Mutex<(unitName: String, done: Int, total: Int)>(("segments", 0, 0))
        let summary: VerifySummary
        do {
            summary = try verifier.run { progress in
                let unitName = Self.unitName(progress.pass, scope: verifier.options.scope)
                last.withLock { $0 = (unitName, progress.unitsDone, progress.unitsTotal) }
                reporter.report(items: progress.summary.compared + progress.summary.targetItemsChecked,
                                totals: ReplicationCounters.Totals(), units: (progress.unitsDone, progress.unitsTotal),
                                unitName: unitName)
            }
            try report.finish()
        } catch {
            logger.error("verification failed", metadata: ["error": "\(error)"])
            FileHandleStderr.write("ferry verify: the comparison failed: \(error)\n")
            return VerifySummary.exitFailed
        }
        let units = last.withLock { $0 }
        reporter.report(items: summary.compared + summary.targetItemsChecked, totals: ReplicationCounters.Totals(),
                        units: (units.done, units.total), unitName: units.unitName, final: true)
        print(summary.render(source: verifier.options.sourceTable, target: verifier.options.targetTable, reportPath: report.path),
              terminator: "")
        return summary.exitCode
    }
}
