import AWSClient
import DynamoModel
@testable import FerryKit
import Foundation
import Logging
import Replication
import StreamStandIn
import XCTest

/// `ferry cutover`'s refusals, each with what it tells the user to do, and
/// what it records when it goes ahead. The forward daemon's status file is
/// written by the test, so every state is exact; moto is DynamoDB and the
/// stand-in is Alternator where the checks talk to them.
final class CutoverTests: TemporaryDirectoryTestCase {
    private var standIn: StreamStandIn!
    private var table = ""

    override func setUpWithError() throws {
        try super.setUpWithError()
        standIn = try StreamStandIn()
        table = "cut-\(UUID().uuidString.prefix(8))"
    }

    override func tearDownWithError() throws {
        standIn?.stop()
        try super.tearDownWithError()
    }

    /// Forward: moto → the stand-in. Reverse: the stand-in → moto.
    private func configs(_ moto: String) -> (FerryConfig, FerryConfig) {
        var forward = motoConfig(moto, table: table)
        forward.target.endpoints = [standIn.baseURL]
        forward.state.checkpoint = dir + "/forward-checkpoint.json"
        forward.state.status = dir + "/forward-status.json"
        forward.state.deadLetter = dir + "/forward-dead.jsonl"
        forward.verify.report = dir + "/mismatches.jsonl"
        forward.verify.recheckDelayMilliseconds = 10
        forward.verify.recheckAttempts = 1
        var reverse = FerryConfig()
        reverse.source.endpoints = [standIn.baseURL]
        reverse.source.table = table
        reverse.target.endpoints = [moto]
        reverse.target.table = table
        reverse.state.checkpoint = dir + "/reverse-checkpoint.json"
        reverse.state.status = dir + "/reverse-status.json"
        reverse.state.deadLetter = dir + "/reverse-dead.jsonl"
        return (forward, reverse)
    }

    private func runner(_ forward: FerryConfig, _ reverse: FerryConfig, configure: (inout CutoverRunner.Options) -> Void = { _ in },
                        betweenReads: @escaping () -> Void = {}) throws -> CutoverRunner {
        var options = CutoverRunner.Options()
        options.quietSeconds = 3
        options.sample = 50
        configure(&options)
        var r = CutoverRunner(forward: forward, forwardServices: try Services(config: forward), reverse: reverse,
                              reverseServices: try Services(config: reverse), options: options, logger: Logger(label: "test"))
        r.sleep = { _ in betweenReads() }
        return r
    }

    /// A forward daemon that is streaming, caught up, with `read` records so far.
    private func status(read: Int = 100, lag: Double = 0, caughtUp: Bool = true, gap: Bool = false,
                        phase: StatusReport.Phase = .streaming, age: Double = 0) -> StatusReport {
        var report = StatusReport(version: "test", pid: 1, writtenAt: Date().addingTimeInterval(-age), phase: phase)
        report.streamArn = "arn:aws:dynamodb:us-east-1:1:table/\(table)/stream/1"
        report.totals.read = read
        report.lagSeconds = lag
        report.shards = [StatusReport.Shard(id: "shardId-1", parent: nil, state: .reading, lastSequenceApplied: "100",
                                            recordsApplied: read, lagSeconds: lag, caughtUp: caughtUp)]
        if gap {
            report.gaps = [StatusReport.Gap(shard: "shardId-1", afterSequence: "90", detectedAt: Date(),
                                            detail: "records after this point are gone", skipped: false)]
        }
        return report
    }

    private func refusal(_ r: CutoverRunner) -> String {
        do {
            _ = try r.run()
            return "(not refused)"
        } catch {
            return "\(error)"
        }
    }

    /// Source and target tables with the same items; the stand-in's has a stream.
    private func tablesInSync(_ moto: String, items: Int = 20, stream: Bool = true) throws {
        let key = [KeySchemaElement(attributeName: "pk", keyType: "HASH")]
        let attrs = [AttributeDefinition(attributeName: "pk", attributeType: "S")]
        let db = MotoStreamTests.client(moto, region: "us-east-1")
        _ = try db.createTable(TableDescription(tableName: table, keySchema: key, attributeDefinitions: attrs,
                                                streamEnabled: true, streamViewType: .newAndOldImages))
        _ = try standIn.createTable(StandInTableSpec(table, stream: stream ? .newAndOldImages : nil, shardCount: 8))
        let rows: [Item] = (0..<items).map { ["pk": .s("k\($0)"), "v": .n("1")] }
        for row in rows { try db.putItem(table: table, item: row) }
        try standIn.put(table: table, items: rows)
    }

    func testRefuses_whileTheForwardDaemonLags_hasAGap_isStalled_orIsNotRunning() throws {
        let (forward, reverse) = configs("http://127.0.0.1:1")
        let cases: [(StatusReport?, String)] = [
            (nil, "no status file"),
            (status(lag: 42, caughtUp: false), "not caught up (lag 42 s"),
            (status(caughtUp: false), "not caught up"),
            (status(gap: true), "found a gap in the stream (shard shardId-1"),
            (status(phase: .stopped), "not streaming"),
            (status(age: 120), "not streaming"),
        ]
        for (report, expected) in cases {
            try? FileManager.default.removeItem(atPath: forward.state.status)
            if let report { try report.write(to: forward.state.status) }
            let said = refusal(try runner(forward, reverse))
            XCTAssertTrue(said.contains(expected), "expected '\(expected)' in: \(said)")
        }
        var stalled = status()
        stalled.stalled = "changes wait and nothing moved for 120 s"
        try stalled.write(to: forward.state.status)
        XCTAssertTrue(refusal(try runner(forward, reverse)).contains("stalled"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: reverse.state.checkpoint), "a refusal records nothing")
        XCTAssertNil(try CutoverRecord.read(forCheckpoint: forward.state.checkpoint))
    }

    func testRefuses_aReverseConfigurationThatReadsDynamoDB_orSharesTheForwardState() throws {
        var (forward, reverse) = configs("http://127.0.0.1:1")
        try status().write(to: forward.state.status)
        reverse.source.endpoints = []
        reverse.source.region = "us-east-1"
        var said = refusal(try runner(forward, reverse))
        XCTAssertTrue(said.contains("the reverse configuration reads DynamoDB") && said.contains("source.endpoints"), said)
        reverse = configs("http://127.0.0.1:1").1
        reverse.state.checkpoint = forward.state.checkpoint
        said = refusal(try runner(forward, reverse))
        XCTAssertTrue(said.contains("share state.checkpoint") && said.contains("its own state files"), said)
    }

    func testRefuses_whenNewRecordsArriveDuringTheQuietWindow_sayingTheApplicationStillWrites() throws {
        let (forward, reverse) = configs("http://127.0.0.1:1")
        try status(read: 100).write(to: forward.state.status)
        var reads = 0
        let r = try runner(forward, reverse, betweenReads: { [self] in
            reads += 1
            // The daemon keeps up (lag 0) yet reads new records: the application still writes.
            try? status(read: reads >= 2 ? 103 : 100).write(to: forward.state.status)
        })
        let said = refusal(r)
        XCTAssertTrue(said.contains("3 new stream records arrived"), said)
        XCTAssertTrue(said.contains("the application still writes to DynamoDB"), said)
    }

    func testRefuses_whenTheReverseCheckpointExists_unlessForced() throws {
        let moto = try MotoStreamTests.motoURL()
        let (forward, reverse) = configs(moto)
        try tablesInSync(moto)
        try status().write(to: forward.state.status)
        XCTAssertTrue(FileManager.default.createFile(atPath: reverse.state.checkpoint, contents: Data("{}".utf8)))
        let said = refusal(try runner(forward, reverse))
        XCTAssertTrue(said.contains("the reverse checkpoint \(reverse.state.checkpoint) exists"), said)
        XCTAssertTrue(said.contains("--force"), said)

        let record = try runner(forward, reverse) { $0.force = true }.run()
        let saved = try XCTUnwrap(FileCheckpointStore(path: reverse.state.checkpoint).load())
        XCTAssertEqual(saved.streamArn, try standIn.streamArn(table: table))
        XCTAssertEqual(saved.cutover?.notBefore, record.notBefore)
        XCTAssertEqual(saved.shards, [:], "no shard position: the cut-over time holds for every shard")
        XCTAssertEqual(record.notBefore.timeIntervalSince1970.truncatingRemainder(dividingBy: 1), 0, "a whole second")
        let marked = try XCTUnwrap(try CutoverRecord.read(forCheckpoint: forward.state.checkpoint))
        XCTAssertEqual(marked.notBefore, record.notBefore)
        XCTAssertEqual(marked.reverseCheckpoint, reverse.state.checkpoint)
    }

    func testRefuses_whenTheVerificationFindsMismatches() throws {
        let moto = try MotoStreamTests.motoURL()
        let (forward, reverse) = configs(moto)
        try tablesInSync(moto)
        try standIn.put(table: table, items: [["pk": .s("k3"), "v": .n("2")]])
        try status().write(to: forward.state.status)
        let said = refusal(try runner(forward, reverse))
        XCTAssertTrue(said.contains("the verification found items that differ"), said)
        XCTAssertTrue(said.contains("ferry verify --repair"), said)
        XCTAssertFalse(FileManager.default.fileExists(atPath: reverse.state.checkpoint))
    }

    func testWithoutAnAlternatorStream_refuses_andEnableStreamTurnsItOn() throws {
        let moto = try MotoStreamTests.motoURL()
        let (forward, reverse) = configs(moto)
        try tablesInSync(moto, stream: false)
        try status().write(to: forward.state.status)
        let said = refusal(try runner(forward, reverse))
        XCTAssertTrue(said.contains("has no stream") && said.contains("--enable-stream"), said)
        // A rehearsal passes every check and changes nothing: no stream, no record.
        let rehearsal = try runner(forward, reverse) { $0.enableStream = true; $0.dryRun = true }.run()
        XCTAssertTrue(rehearsal.alternatorStream.contains("none yet"), rehearsal.alternatorStream)
        XCTAssertThrowsError(try standIn.streamArn(table: table), "no stream was enabled")
        XCTAssertFalse(FileManager.default.fileExists(atPath: reverse.state.checkpoint))
        XCTAssertNil(try CutoverRecord.read(forCheckpoint: forward.state.checkpoint))
        // A table on tablets: Alternator refuses the stream, and the refusal says why and what to do.
        let tablets = standIn.inject(StandInFault(.serviceError(
            status: 400, code: "ValidationException",
            message: "Streams not yet supported on a table using tablets (issue #16317)"), on: [.updateTable]))
        let refused = refusal(try runner(forward, reverse) { $0.enableStream = true })
        XCTAssertTrue(refused.contains("Alternator refused to enable a stream") && refused.contains("tablets")
                      && refused.contains("ferry create-table"), refused)
        standIn.removeFault(tablets)
        let record = try runner(forward, reverse) { $0.enableStream = true }.run()
        XCTAssertEqual(record.alternatorStream, try standIn.streamArn(table: table))
    }

    func testLeaseMode_theCutoverIsRecordedInTheLeaseTable_andAReverseWorkerStartsFromIt() throws {
        let moto = try MotoStreamTests.motoURL()
        var (forward, reverse) = configs(moto)
        reverse.target.type = .dynamodb
        reverse.target.credentials.accessKeyId = "AKIDMOTO"
        reverse.target.credentials.secretAccessKey = "moto"
        reverse.coordination.mode = .lease
        reverse.coordination.store = .target
        reverse.coordination.table = "leases-\(UUID().uuidString.prefix(8))"
        reverse.coordination.workerId = "back-1"
        try tablesInSync(moto)
        try status().write(to: forward.state.status)
        let record = try runner(forward, reverse).run()
        XCTAssertFalse(FileManager.default.fileExists(atPath: reverse.state.checkpoint), "no file in lease mode")
        let leases = LeaseTable(client: MotoStreamTests.client(moto, region: "us-east-1"), table: reverse.coordination.table,
                                streamArn: record.alternatorStream, workerId: "test")
        let stored = try XCTUnwrap(try leases.readCutover())
        XCTAssertEqual(stored.notBefore, record.notBefore)
        XCTAssertEqual(stored.forwardStatus, [forward.state.status])
        let snapshot = try leases.read()
        XCTAssertTrue(snapshot.rows.isEmpty && snapshot.heartbeats.isEmpty, "the record is neither a shard nor a worker: \(snapshot)")

        let again = refusal(try runner(forward, reverse))
        XCTAssertTrue(again.contains("a cut-over record or leases") && again.contains("--force"), again)

        try status(phase: .stopped).write(to: forward.state.status)
        let (replicator, _, _) = try StreamRunner(config: reverse, services: try Services(config: reverse),
                                                  logger: Logger(label: "t")).prepare()
        XCTAssertEqual(replicator.options.notBefore, record.notBefore.timeIntervalSince1970)
        XCTAssertTrue(replicator.options.leased)
    }

    func testAlternatorAsTheSource_aDeadNodeIsSetAside_forTableAndStreamCalls() throws {
        var reverse = configs("http://127.0.0.1:1").1
        reverse.source.endpoints = ["http://127.0.0.1:1", standIn.baseURL]
        _ = try standIn.createTable(StandInTableSpec(table, stream: .newAndOldImages, shardCount: 4))
        let services = try Services(config: reverse)
        let nodes = try XCTUnwrap(services.sourceNodes)
        XCTAssertEqual(try services.streamArn(), try standIn.streamArn(table: table), "DescribeTable went to the live node")
        XCTAssertEqual(nodes.states.map(\.up), [false, true], "the dead node is set aside")
        let description = try services.streams.describeStream(arn: try services.streamArn(), limit: 100)
        XCTAssertEqual(description.shards.count, 4, "the Streams API goes through the same nodes")
    }

    func testTheWayBack_refusesToStartWithoutACutover_andTheForwardDaemonRefusesAfterOne() throws {
        let moto = try MotoStreamTests.motoURL()
        let (forward, reverse) = configs(moto)
        try tablesInSync(moto)
        let reverseServices = try Services(config: reverse)
        XCTAssertThrowsError(try StreamRunner(config: reverse, services: reverseServices, logger: Logger(label: "t")).prepare()) { error in
            XCTAssertTrue("\(error)".contains("no cut-over is recorded") && "\(error)".contains("ferry cutover"), "\(error)")
        }
        try status().write(to: forward.state.status)
        _ = try runner(forward, reverse).run()
        XCTAssertThrowsError(try StreamRunner(config: forward, services: try Services(config: forward), logger: Logger(label: "t")).prepare()) { error in
            XCTAssertTrue("\(error)".contains("the cut-over to Alternator was made"), "\(error)")
            XCTAssertTrue("\(error)".contains(CutoverRecord.path(forCheckpoint: forward.state.checkpoint)), "says what to remove")
        }
        // Not while the forward daemon still runs: the two would bounce every change.
        try status().write(to: forward.state.status)
        XCTAssertThrowsError(try StreamRunner(config: reverse, services: reverseServices, logger: Logger(label: "t")).prepare()) { error in
            XCTAssertTrue("\(error)".contains("the forward daemon is still running"), "\(error)")
        }
        try status(phase: .stopped).write(to: forward.state.status)
        // The reverse daemon now starts, from the cut-over.
        let (replicator, _, _) = try StreamRunner(config: reverse, services: reverseServices, logger: Logger(label: "t")).prepare()
        XCTAssertEqual(replicator.options.notBefore, try XCTUnwrap(CutoverRecord.read(forCheckpoint: forward.state.checkpoint)).notBefore.timeIntervalSince1970)
    }
}
