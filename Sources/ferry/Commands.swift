import ArgumentParser
import FerryKit
import Foundation
import Logging
import Replication
import Verify

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the whole migration as one daemon: create, backfill, then stream.",
        discussion: """
            Checks that the source table has a stream that covers the backfill's start, \
            optionally creates the target table, backfills from an S3 export or a parallel \
            Scan, then streams every later change. The phase is kept in the status file, \
            so a restart continues where it stopped.
            """)
    @OptionGroup var options: ConfigOptions
    @Flag(help: "Enable the source table's stream (NEW_AND_OLD_IMAGES) when it has none.")
    var enableStream = false
    @Flag(help: "Create the target table first (as ferry create-table does).")
    var createTable = false
    @Option(help: ArgumentHelp("Backfill from these exports (in order) instead of a parallel Scan.", valueName: "location"))
    var export: [String] = []
    func run() throws {
        let (config, services, logger) = try options.prepare("run", [.stream])
        let signals = SignalTrap()
        var runOptions = RunRunner.Options()
        runOptions.enableStream = enableStream
        runOptions.createTable = createTable
        runOptions.exports = export
        let code = RunRunner(config: config, services: services, logger: logger, options: runOptions).run(signals: signals)
        if code != 0 { throw ExitCode(code) }
    }
}

struct CreateTableCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create-table",
        abstract: "Create the target table with the source table's keys, indexes and billing mode.")
    @OptionGroup var options: ConfigOptions
    func run() throws {
        let (config, services, logger) = try options.prepare("create-table", [.source, .target])
        do {
            switch try CreateTableRunner(config: config, services: services, logger: logger).run() {
            case .created(let table):
                print("created \(table.tableName) (status \(table.tableStatus ?? "unknown"))")
            case .alreadyThere(let table):
                print("\(table.tableName) already exists with the same keys; nothing to do")
            }
        } catch {
            FileHandleStderr.write("ferry create-table: \(error)\n")
            throw ExitCode(1)
        }
    }
}

struct BackfillCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backfill",
        abstract: "Copy the table's history from a DynamoDB export to S3 or by a parallel Scan.",
        discussion: """
            --export takes s3://bucket/prefix/AWSDynamoDB/<exportId>/ or a local directory \
            with the same layout (DYNAMODB_JSON, FULL or INCREMENTAL). --scan reads the \
            source table in parallel segments. Progress is checkpointed; a restart resumes.
            """)
    @OptionGroup var options: ConfigOptions
    @Option(help: ArgumentHelp("An export location: s3://bucket/prefix/AWSDynamoDB/<id>/ or a directory.", valueName: "location"))
    var export: [String] = []
    @Flag(help: "Backfill with a parallel Scan of the source table.")
    var scan = false
    func run() throws {
        guard scan != !export.isEmpty else {
            throw ValidationError("give either --scan or --export <location> (one or more, applied in order)")
        }
        let (config, services, logger) = try options.prepare("backfill", [.source, .target])
        let signals = SignalTrap()
        do {
            let source = try services.source.describeTable(config.source.table!)
            guard let keySchema = source.primaryKey else { throw SetupError("source table reports no key schema") }
            try services.checkTargetTable(keySchema: keySchema)
            let summary = try BackfillDriver(config: config, services: services, logger: logger)
                .run(exports: export, keySchema: keySchema, expectedItems: source.itemCount, signals: signals)
            print("backfill \(summary.complete ? "complete" : "interrupted (resumable)"): \(summary.items) items written, "
                + "\(summary.deadLettered) dead-lettered, \(String(format: "%.1f", summary.seconds)) s")
        } catch {
            FileHandleStderr.write("ferry backfill: \(error)\n")
            throw ExitCode(1)
        }
    }
}

struct StreamCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stream",
        abstract: "Apply the source table's DynamoDB Stream to Alternator until stopped.",
        discussion: """
            Polls every shard, applies INSERT/MODIFY as puts and REMOVE as deletes through \
            batching writer lanes that keep each key's changes in order, checkpoints each \
            shard's progress, and rewrites the status file every second. SIGTERM or SIGINT \
            drains the lanes, writes the last checkpoint and exits 0.
            """)
    @OptionGroup var options: ConfigOptions
    func run() throws {
        let (config, services, logger) = try options.prepare("stream", [.stream])
        let signals = SignalTrap()
        let code = StreamRunner(config: config, services: services, logger: logger).run(stopOn: signals)
        if code != 0 { throw ExitCode(code) }
    }
}

struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Compare source and target item by item; optionally repair.",
        discussion: """
            Scans the source in parallel segments and fetches the same keys from the target \
            (BatchGetItem), comparing the way DynamoDB does (numbers by value, sets in any \
            order); then scans the target for items the source lacks. A difference is read \
            again, consistently, after verify.recheck_delay_ms before it counts, so changes \
            still in flight are not reported. Prints a summary and writes every mismatch to \
            a JSON-lines report.
            Exit status: 0 in sync, 1 mismatches remain, 2 the comparison itself failed.
            """)
    @OptionGroup var options: ConfigOptions
    @Option(help: ArgumentHelp("Compare about N items spread over every segment instead of all.", valueName: "N"))
    var sample: Int?
    @Option(help: ArgumentHelp("Compare only these Scan segments, e.g. 3/16, 0-3/16 or 1,5/16 (from 0).", valueName: "segment/total"))
    var segments: String?
    @Option(help: ArgumentHelp("Compare only the keys in this file: one DynamoDB JSON key per line (a mismatch report works too).",
                               valueName: "path"))
    var keys: String?
    @Flag(help: "Write the source item to the target (or delete an extra target item) for every mismatch, then check it again.")
    var repair = false
    @Option(help: ArgumentHelp("The JSON-lines mismatch report (default: verify.report, ferry-verify-mismatches.jsonl).",
                               valueName: "path"))
    var report: String?

    func validate() throws {
        guard [sample != nil, segments != nil, keys != nil].filter({ $0 }).count <= 1 else {
            throw ValidationError("give at most one of --sample, --segments and --keys")
        }
        if let sample, sample < 1 { throw ValidationError("--sample takes a positive number of items") }
    }

    func run() throws {
        let (config, services, logger) = try options.prepare("verify", [.source, .target], failureCode: VerifySummary.exitFailed)
        let signals = SignalTrap()
        let request = VerifyRequest(sample: sample, segments: segments, keysFile: keys, repair: repair, report: report)
        let code = VerifyRunner(config: config, services: services, logger: logger).run(request, stopOn: signals)
        if code != 0 { throw ExitCode(code) }
    }
}

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Print the daemon's status file for a person: phase, per-shard lag, counters.")
    @OptionGroup var options: ConfigOptions
    @Flag(help: "Print the status file as it is (JSON).")
    var json = false
    func run() throws {
        let config = try options.load([])
        guard let bytes = try? AtomicFileReader.read(config.state.status) else {
            FileHandleStderr.write("ferry status: no status file at \(config.state.status) (is ferry running with this configuration?)\n")
            throw ExitCode(1)
        }
        if json {
            print(String(decoding: bytes, as: UTF8.self))
            return
        }
        let report = try StatusReport.decode(bytes)
        print(StatusPrinter.render(report, now: Date()))
        if config.coordination.mode == .lease { printLeaseTable(config) }
    }

    /// Lease mode: every worker's share, read from the lease table.
    private func printLeaseTable(_ config: FerryConfig) {
        do {
            let services = try Services(config: config)
            let store = config.coordination.store == .target ? services.target : services.source
            let table = LeaseTable(client: store, table: config.coordination.table, streamArn: try services.streamArn(),
                                   workerId: config.leaseWorkerId)
            print("")
            let snapshot = try table.read()
            print(LeaseTablePrinter.render(snapshot.rows, heartbeats: snapshot.heartbeats, table: config.coordination.table))
        } catch {
            print("")
            print("lease table \(config.coordination.table) could not be read: \(error)")
        }
    }
}

struct HealthCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "health",
        abstract: "Exit non-zero when the status file is stale or says the daemon failed.",
        discussion: "Meant for Docker HEALTHCHECK and systemd.")
    @OptionGroup var options: ConfigOptions
    @Option(help: ArgumentHelp("Seconds after which an unchanged status file counts as stale.", valueName: "seconds"))
    var maxAge: Double = 30
    func run() throws {
        let config = try options.load([])
        let verdict = HealthCheck.judge(path: config.state.status, now: Date(), maxAge: maxAge)
        print(verdict.message)
        if !verdict.healthy { throw ExitCode(1) }
    }
}

struct CutoverCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cutover",
        abstract: "Switch from DynamoDB to Alternator, keeping a way back.",
        discussion: """
            Run it once the application has stopped writing to DynamoDB and while the forward \
            daemon still runs. It refuses unless the forward daemon has no gap, every shard is \
            caught up and no new record arrives for --quiet-seconds, and a verification (sampled, \
            or --full) finds no difference. It then checks that the Alternator table has a stream \
            (--enable-stream turns it on), records where reverse replication begins in the reverse \
            checkpoint (only changes made after the cut-over ever flow back), records the cut-over in \
            the forward state (the forward daemon will not start again), and prints the next steps.
            """)
    @OptionGroup var options: ConfigOptions
    @Option(help: ArgumentHelp("The reverse configuration: Alternator (source.endpoints) to DynamoDB.", valueName: "path"))
    var reverseConfig: String
    @Option(help: "Seconds without a new stream record that show the application no longer writes to DynamoDB.")
    var quietSeconds = 30
    @Option(help: "Items compared by the sampled verification.")
    var sample = 1000
    @Flag(help: "Compare every item instead of a sample.")
    var full = false
    @Flag(help: "Enable the Alternator table's stream when it has none.")
    var enableStream = false
    @Flag(help: "Record a new cut-over even though the reverse checkpoint exists.")
    var force = false
    @Flag(help: "Rehearse: run every check, change nothing (no stream enabled, nothing recorded).")
    var dryRun = false
    @Option(help: ArgumentHelp("A forward worker's status file (repeatable; default: the forward state.status).", valueName: "path"))
    var status: [String] = []

    func run() throws {
        guard quietSeconds >= 2 else { throw ValidationError("--quiet-seconds must be at least 2") }
        let (forward, forwardServices, logger) = try options.prepare("cutover", [.source, .target])
        let reverse = try ConfigOptions.load(file: reverseConfig, overrides: [], [.stream])
        let reverseServices: Services
        do {
            reverseServices = try Services(config: reverse)
        } catch {
            FileHandleStderr.write("ferry cutover: reverse configuration: \(error)\n")
            throw ExitCode(2)
        }
        var runOptions = CutoverRunner.Options()
        runOptions.quietSeconds = quietSeconds
        runOptions.sample = full ? nil : sample
        runOptions.enableStream = enableStream
        runOptions.force = force
        runOptions.statusFiles = status
        runOptions.dryRun = dryRun
        let runner = CutoverRunner(forward: forward, forwardServices: forwardServices, reverse: reverse,
                                   reverseServices: reverseServices, options: runOptions, logger: logger)
        do {
            let record = try runner.run()
            if dryRun {
                print("""
                    rehearsal: every check passed; nothing was changed. Run now, the way back would start at \
                    \(record.notBefore); Alternator stream: \(record.alternatorStream).
                    """)
                return
            }
            print("""
                cut-over recorded: changes made in Alternator from \(record.notBefore) on will flow back to DynamoDB.
                Next:
                  1. switch the application to Alternator;
                  2. stop the forward daemon (systemctl stop ferry, or SIGTERM);
                  3. start the way back: ferry stream --config \(reverseConfig)
                """)
        } catch let refusal as CutoverRunner.Refusal {
            FileHandleStderr.write("ferry cutover: refused: \(refusal)\n")
            throw ExitCode(1)
        } catch {
            FileHandleStderr.write("ferry cutover: \(error)\n")
            throw ExitCode(1)
        }
    }
}
