import AWSClient
import Foundation
import Logging
import Replication
import Verify

/// What `ferry cutover` left in the forward daemon's state: the forward
/// direction is over, and `ferry stream` with the forward configuration
/// refuses to start while this file exists.
public struct CutoverRecord: Sendable, Codable, Equatable {
    public var at: Date
    /// Records of the way back created before this are not applied.
    public var notBefore: Date
    /// The reverse configuration's checkpoint file.
    public var reverseCheckpoint: String
    public var alternatorStream: String

    /// Beside the forward checkpoint file.
    public static func path(forCheckpoint checkpoint: String) -> String { checkpoint + ".cutover.json" }

    public static func read(forCheckpoint checkpoint: String) throws -> CutoverRecord? {
        let path = path(forCheckpoint: checkpoint)
        guard let bytes = try AtomicFile.read(path) else { return nil }
        do {
            return try StateJSON.decoder.decode(CutoverRecord.self, from: Data(bytes))
        } catch {
            throw SetupError("\(path) is not a cut-over record Ferry can read; move it away only if no cut-over was made")
        }
    }

    func write(forCheckpoint checkpoint: String) throws {
        try AtomicFile.write(Array(try StateJSON.encoder.encode(self)), to: Self.path(forCheckpoint: checkpoint))
    }
}

/// `ferry cutover`: the guarded switch from DynamoDB to Alternator.
///
/// It refuses unless the forward daemon has applied everything and the
/// application has stopped writing to DynamoDB (no new record for
/// `quietSeconds`), and a verification finds the tables equal. Then it
/// makes sure the Alternator table has a stream, records where the way
/// back begins in the reverse checkpoint, records the cut-over beside the
/// forward checkpoint, and prints the next steps. Exit status: 0 done, 1
/// refused (the message says what to do), 2 a broken configuration.
public struct CutoverRunner {
    public struct Options: Sendable {
        /// How long `totals.read` must stand still.
        public var quietSeconds = 30
        /// Items compared by the sampled verification; nil: `--full`.
        public var sample: Int? = 1000
        public var enableStream = false
        /// Redo a cut-over whose reverse checkpoint exists.
        public var force = false
        /// The forward daemon's status files (one per worker in lease
        /// mode); empty: the forward configuration's `state.status`.
        public var statusFiles: [String] = []
        /// How old a status file may be and still describe a running daemon.
        public var freshSeconds = 15.0
        /// A rehearsal: every check runs, nothing is written anywhere (no
        /// stream is enabled, no record made).
        public var dryRun = false
        public init() {}
    }

    public struct Refusal: Error, CustomStringConvertible {
        public var description: String
        init(_ description: String) { self.description = description }
    }

    public let forward: FerryConfig
    public let forwardServices: Services
    public let reverse: FerryConfig
    public let reverseServices: Services
    public let options: Options
    public let logger: Logger
    /// Injected by tests; real runs sleep and read the wall clock.
    var sleep: (Double) -> Void = { Thread.sleep(forTimeInterval: $0) }
    var now: () -> Date = { Date() }

    public init(forward: FerryConfig, forwardServices: Services, reverse: FerryConfig, reverseServices: Services,
                options: Options, logger: Logger) {
        self.forward = forward
        self.forwardServices = forwardServices
        self.reverse = reverse
        self.reverseServices = reverseServices
        self.options = options
        self.logger = logger
    }

    /// Runs every check, then records the cut-over. Throws ``Refusal``.
    public func run() throws -> CutoverRecord {
        guard reverse.source.isAlternator else {
            throw Refusal("the reverse configuration reads DynamoDB: set its source.endpoints to the Alternator nodes "
                + "(and source.table to the Alternator table), so the way back reads Alternator's stream")
        }
        guard reverse.state.checkpoint != forward.state.checkpoint else {
            throw Refusal("the forward and reverse configurations share state.checkpoint \(forward.state.checkpoint): "
                + "give the reverse configuration its own state files")
        }
        if !options.force, let existing = try reverseRecord() {
            throw Refusal("\(existing) exists: the way back has been set up (or "
                + "has run) already. Start it with `ferry stream --config <reverse config>`; to record a new cut-over "
                + "instead, run ferry cutover again with --force")
        }
        let started = now()
        let forwardStream = try checkForwardDaemon()
        logger.notice("the forward daemon is caught up and DynamoDB is quiet; verifying",
                      metadata: ["quiet_seconds": "\(options.quietSeconds)"])
        try verifyTables()
        let alternatorStream = try alternatorStreamArn()

        // The forward daemon's last write came before the quiet window
        // began, and the application writes to Alternator only after this
        // command ends: the middle of the window parts the two, with half
        // the window's margin on either side for clocks that differ.
        let notBefore = Date(timeIntervalSince1970: (started.timeIntervalSince1970 + Double(options.quietSeconds) / 2).rounded(.down))
        let at = now()
        let cutover = Checkpoint.Cutover(notBefore: notBefore, at: at, forwardStream: forwardStream, forwardStatus: statusPaths)
        let record = CutoverRecord(at: at, notBefore: notBefore, reverseCheckpoint: reverse.state.checkpoint,
                                   alternatorStream: alternatorStream)
        if options.dryRun {
            logger.notice("rehearsal: every check passed; nothing recorded", metadata: ["not_before": "\(notBefore)"])
            return record
        }
        if reverse.coordination.mode == .lease {
            // Several reverse workers share the way back: the record goes
            // into their lease table, where each of them reads it at start.
            let table = try StreamRunner.leaseTable(config: reverse, services: reverseServices, streamArn: alternatorStream)
            guard try table.writeCutover(cutover, replacing: options.force) else {
                throw Refusal("a cut-over was recorded in the lease table \(reverse.coordination.table) meanwhile; "
                    + "run ferry cutover again with --force to replace it")
            }
        } else {
            var checkpoint = Checkpoint(streamArn: alternatorStream)
            checkpoint.cutover = cutover
            try FileCheckpointStore(path: reverse.state.checkpoint).save(checkpoint)
        }
        try record.write(forCheckpoint: forward.state.checkpoint)
        logger.notice("cut-over recorded", metadata: ["not_before": "\(notBefore)", "alternator_stream": "\(alternatorStream)"])
        return record
    }

    /// Where a way back set up before shows, if it does: the reverse
    /// checkpoint file, or (lease mode) rows for the Alternator stream.
    func reverseRecord() throws -> String? {
        guard reverse.coordination.mode == .lease else {
            return (try? AtomicFile.read(reverse.state.checkpoint)) ?? nil != nil
                ? "the reverse checkpoint \(reverse.state.checkpoint)" : nil
        }
        guard let table = reverse.source.table else { return nil }
        let description = try reverseServices.source.describeTable(table)
        guard description.streamEnabled, let arn = description.latestStreamArn else { return nil }
        let leases = try StreamRunner.leaseTable(config: reverse, services: reverseServices, streamArn: arn)
        if try leases.readCutover() != nil || !(try leases.readAll().isEmpty) {
            return "a cut-over record or leases for \(arn) in the lease table \(reverse.coordination.table)"
        }
        return nil
    }

    /// The forward daemon is running, has no gap, is caught up on every
    /// shard, and reads no new record for `quietSeconds`. Returns its stream.
    var statusPaths: [String] { options.statusFiles.isEmpty ? [forward.state.status] : options.statusFiles }

    func checkForwardDaemon() throws -> String? {
        let paths = statusPaths
        var first = try paths.map(readStatus)
        for (path, report) in zip(paths, first) { try checkCaughtUp(report, path: path) }
        var waited = 0.0
        let quiet = Double(options.quietSeconds)
        while waited < quiet {
            let step = min(1, quiet - waited)
            sleep(step)
            waited += step
            let next = try paths.map(readStatus)
            for (index, path) in paths.enumerated() {
                try checkCaughtUp(next[index], path: path)
                let arrived = next[index].totals.read - first[index].totals.read
                if arrived != 0 {
                    throw Refusal("\(arrived) new stream records arrived in the last \(Int(waited.rounded(.up))) s "
                        + "(\(path)): the application still writes to DynamoDB. Stop its writes (or switch it to "
                        + "read-only), wait for the forward daemon to apply them, then run ferry cutover again")
                }
            }
            first = next
        }
        return first.compactMap(\.streamArn).first
    }

    private func readStatus(_ path: String) throws -> StatusReport {
        let report: StatusReport?
        do {
            report = try StatusReport.read(path: path)
        } catch {
            throw Refusal("cannot read the forward daemon's status file \(path): \(error)")
        }
        guard let report else {
            throw Refusal("no status file at \(path): start the forward daemon (`ferry stream --config <forward config>`) "
                + "and let it catch up; in lease mode give each worker's status file with --status")
        }
        let age = now().timeIntervalSince(report.writtenAt)
        guard report.phase == .streaming, age <= options.freshSeconds else {
            throw Refusal("the forward daemon is not streaming (status \(path): phase \(report.phase.rawValue), written "
                + "\(Int(age)) s ago). Start it and let it catch up: the cut-over needs it to have applied every change")
        }
        return report
    }

    private func checkCaughtUp(_ report: StatusReport, path: String) throws {
        if let gap = report.gaps.first {
            throw Refusal("the forward daemon found a gap in the stream (shard \(gap.shard): \(gap.detail)): "
                + "changes are missing in Alternator. Repair with `ferry verify --repair` or backfill anew, then restart "
                + "the forward daemon; cut over only once it has no gap")
        }
        if let stalled = report.stalled {
            throw Refusal("the forward daemon is stalled (\(stalled)); fix that first")
        }
        let behind = report.shards.filter { $0.state != .finished && ($0.caughtUp != true || $0.lagSeconds > 0) }
        guard report.lagSeconds == 0, behind.isEmpty else {
            let names = behind.prefix(3).map { "\($0.id) (lag \(Int($0.lagSeconds)) s)" }.joined(separator: ", ")
            throw Refusal("the forward daemon is not caught up (lag \(Int(report.lagSeconds.rounded(.up))) s"
                + (names.isEmpty ? "" : "; behind: \(names)") + "): wait until every shard is caught up, then run ferry cutover again")
        }
    }

    /// A sampled (or full) verification finds no mismatch.
    func verifyTables() throws {
        var request = VerifyRequest()
        request.sample = options.sample
        let code = VerifyRunner(config: forward, services: forwardServices, logger: logger).run(request)
        switch code {
        case 0: return
        case VerifySummary.exitMismatches:
            throw Refusal("the verification found items that differ (see \(forward.verify.report)): repair them with "
                + "`ferry verify --repair --config <forward config>`, find out why they differed, then run ferry cutover again")
        default:
            throw Refusal("the verification could not run (exit \(code)); see the messages above")
        }
    }

    /// The Alternator table's stream, enabled when asked to.
    func alternatorStreamArn() throws -> String {
        guard let table = reverse.source.table else {
            throw Refusal("the reverse configuration has no source.table: name the Alternator table")
        }
        var description = try reverseServices.source.describeTable(table)
        if !description.streamEnabled || description.latestStreamArn == nil {
            if options.dryRun {
                return options.enableStream ? "(none yet: --enable-stream will turn it on)"
                    : "(none yet: run the cut-over with --enable-stream)"
            }
            guard options.enableStream else {
                throw Refusal("the Alternator table \(table) has no stream, so nothing could flow back: run ferry cutover "
                    + "again with --enable-stream (the table must use vnodes, not tablets: see `ferry create-table`)")
            }
            do {
                description = try reverseServices.source.enableStream(table: table, viewType: .newAndOldImages)
            } catch {
                throw Refusal("Alternator refused to enable a stream on \(table): \(error). ScyllaDB versions that create "
                    + "tables with tablets by default have not supported Streams on them; such a table must be created "
                    + "with tablets off (`ferry create-table` does so) before the migration, since the way back needs its stream")
            }
            if description.latestStreamArn == nil { description = try reverseServices.source.describeTable(table) }
        }
        guard let arn = description.latestStreamArn else {
            throw Refusal("the Alternator table \(table) reports no stream ARN after enabling its stream; run ferry cutover again")
        }
        return arn
    }
}
