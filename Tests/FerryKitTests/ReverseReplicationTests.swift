import AWSClient
import DynamoModel
import Dispatch
import Foundation
import Replication
import StreamStandIn
import Synchronization
import XCTest

/// The whole way there and back, with the ferry binary: moto is DynamoDB,
/// the stand-in behaves as Alternator's streams do (many shards, a PutItem
/// seen as REMOVE then MODIFY, records published late). Forward
/// replication, `ferry cutover`, then reverse replication while the
/// "application" writes to Alternator.
final class ReverseReplicationTests: XCTestCase {
    /// Waits for `process` to exit, killing it after `seconds`; its status.
    private func exitStatus(_ process: Process, within seconds: Double) -> Int32? {
        guard eventually(seconds, { !process.isRunning }) else {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            return nil
        }
        return process.terminationStatus
    }

    private static func text(_ path: String) -> String {
        String(((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").suffix(4000))
    }

    /// Whether both sides hold the same items, compared by value.
    private static func same(_ a: [Item], _ b: [Item]) -> Bool {
        let byKey = Dictionary(b.map { ($0["pk"]?.stringValue ?? "?", $0) }, uniquingKeysWith: { x, _ in x })
        return a.count == b.count && a.allSatisfy { item in
            byKey[item["pk"]?.stringValue ?? "?"].map { AttributeValue.m($0).semanticallyEquals(.m(item)) } ?? false
        }
    }

    func testForwardThenCutoverThenBack_dynamoDBEndsEqualToAlternator_nothingFromBeforeTheCutoverFlowsBack() throws {
        let moto = try MotoStreamTests.motoURL()
        var alternator = StandInConfiguration.alternator
        alternator.alternatorStreams = StandInAlternatorStreams(shardsPerStream: 64, putAsRemoveThenModify: true, publishDelay: 1)
        let standIn = try StreamStandIn(configuration: alternator)
        defer { standIn.stop() }
        let dir = NSTemporaryDirectory() + "ferry-reverse-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { if ProcessInfo.processInfo.environment["FERRY_KEEP"] == nil { try? FileManager.default.removeItem(atPath: dir) } }
        let table = "orders-\(UUID().uuidString.prefix(8))"

        // DynamoDB (moto) with its stream; Alternator (the stand-in) with many shards.
        let dynamo = MotoStreamTests.client(moto, region: "us-east-1")
        _ = try dynamo.createTable(TableDescription(
            tableName: table, keySchema: [KeySchemaElement(attributeName: "pk", keyType: "HASH")],
            attributeDefinitions: [AttributeDefinition(attributeName: "pk", attributeType: "S")],
            streamEnabled: true, streamViewType: .newAndOldImages))
        _ = try standIn.createTable(StandInTableSpec(table, stream: .newAndOldImages, shardCount: 64))
        let seeded = (0..<40).map { "key-\($0)" }
        for key in seeded { try dynamo.putItem(table: table, item: ["pk": .s(key), "v": .n("0"), "side": .s("dynamodb")]) }

        try """
            source: {table: \(table), region: us-east-1, endpoint: "\(moto)", access_key_id: AKIDMOTO, secret_access_key: moto}
            target: {endpoints: ["\(standIn.baseURL)"], table: \(table)}
            stream: {idle_backoff_max_ms: 100, drain_deadline_seconds: 10}
            verify: {report: \(dir)/mismatches.jsonl, recheck_delay_ms: 50}
            state: {status: \(dir)/forward-status.json, checkpoint: \(dir)/forward-checkpoint.json, dead_letter: \(dir)/forward-dead.jsonl}
            """.write(toFile: dir + "/forward.yaml", atomically: true, encoding: .utf8)
        try """
            source: {table: \(table), endpoints: ["\(standIn.baseURL)"]}
            target: {type: dynamodb, endpoints: ["\(moto)"], table: \(table), region: us-east-1,
                     access_key_id: AKIDMOTO, secret_access_key: moto}
            stream: {idle_backoff_max_ms: 100, drain_deadline_seconds: 10}
            state: {status: \(dir)/reverse-status.json, checkpoint: \(dir)/reverse-checkpoint.json, dead_letter: \(dir)/reverse-dead.jsonl}
            """.write(toFile: dir + "/reverse.yaml", atomically: true, encoding: .utf8)

        // 1. Forward, until Alternator has DynamoDB's items.
        let forward = try MotoKillTests.launch(["stream", "--config", dir + "/forward.yaml"], log: dir + "/forward.log")
        defer { if forward.isRunning { kill(forward.processIdentifier, SIGKILL) } }
        XCTAssertTrue(eventually(60) { (try? standIn.itemCount(table: table)) == seeded.count }, Self.text(dir + "/forward.log"))
        XCTAssertTrue(eventually(30) {
            guard let report = (try? StatusReport.read(path: dir + "/forward-status.json")) ?? nil else { return false }
            return report.totals.read == seeded.count && report.lagSeconds == 0
        }, "the forward daemon's status never showed it caught up")

        // 2. The cut-over: caught up, quiet, verified.
        let cutover = try MotoKillTests.launch(["cutover", "--config", dir + "/forward.yaml", "--reverse-config", dir + "/reverse.yaml",
                                                "--quiet-seconds", "3", "--sample", "40"], log: dir + "/cutover.log")
        XCTAssertEqual(exitStatus(cutover, within: 60), 0, Self.text(dir + "/cutover.log"))
        XCTAssertTrue(Self.text(dir + "/cutover.log").contains("start the way back: ferry stream --config \(dir)/reverse.yaml"))
        kill(forward.processIdentifier, SIGTERM)
        XCTAssertEqual(exitStatus(forward, within: 20), 0)
        let again = try MotoKillTests.launch(["stream", "--config", dir + "/forward.yaml"], log: dir + "/forward-again.log")
        XCTAssertEqual(exitStatus(again, within: 20), 2, "kept down by systemd's RestartPreventExitStatus: \(Self.text(dir + "/forward-again.log"))")
        XCTAssertTrue(Self.text(dir + "/forward-again.log").contains("the cut-over to Alternator was made"))
        XCTAssertTrue(Self.text(dir + "/forward-again.log").contains("forward-checkpoint.json.cutover.json"), "says what to remove")
        let checkpoint = try XCTUnwrap(FileCheckpointStore(path: dir + "/reverse-checkpoint.json").load())
        XCTAssertNotNil(checkpoint.cutover)
        // Every record in Alternator's stream so far is the forward daemon's.
        let recordsBefore = try standIn.shards(table: table).reduce(0) { $0 + $1.recordCount }

        // 3. The way back, while the application writes to Alternator.
        let reverse = try MotoKillTests.launch(["stream", "--config", dir + "/reverse.yaml"], log: dir + "/reverse.log")
        defer { if reverse.isRunning { kill(reverse.processIdentifier, SIGKILL) } }
        // Never deleted by the application: must never be missing from DynamoDB.
        let sampling = Atomic<Bool>(true)
        let missing = Mutex<[String]>([])
        let samples = Atomic<Int>(0)
        let samplerDone = DispatchSemaphore(value: 0)
        let sampler = Thread {
            defer { samplerDone.signal() }
            let db = MotoStreamTests.client(moto, region: "us-east-1")
            while sampling.load(ordering: .relaxed) {
                if let items = try? MotoStreamTests.scanAll(db, table) {
                    let present = Set(items.compactMap { $0["pk"]?.stringValue })
                    let gone = seeded.filter { !present.contains($0) }
                    if !gone.isEmpty { missing.withLock { $0 += gone } }
                    samples.add(1, ordering: .relaxed)
                }
                Thread.sleep(forTimeInterval: 0.05)
            }
        }
        sampler.start()
        var applicationWrites = 0
        for round in 1...6 {
            try standIn.put(table: table, items: seeded.map { ["pk": .s($0), "v": .n(String(round)), "side": .s("alternator")] })
            try standIn.put(table: table, items: (0..<10).map { ["pk": .s("new-\(round)-\($0)"), "v": .n(String(round))] })
            applicationWrites += seeded.count + 10
            if round > 1 {
                try standIn.delete(table: table, keys: (0..<5).map { ["pk": .s("new-\(round - 1)-\($0)")] })
                applicationWrites += 5
            }
            Thread.sleep(forTimeInterval: 0.3)
        }
        let converged = eventually(90) { () -> Bool in
            guard let a = try? standIn.snapshot(table: table), let b = try? MotoStreamTests.scanAll(dynamo, table) else { return false }
            return Self.same(Array(a.items.values), b)
        }
        sampling.store(false, ordering: .relaxed)
        samplerDone.wait()
        XCTAssertTrue(converged, "DynamoDB differs from Alternator\n\(Self.text(dir + "/reverse.log"))")
        XCTAssertGreaterThan(samples.load(ordering: .relaxed), 10)
        XCTAssertEqual(missing.withLock { $0 }, [], "items the application never deleted went missing from DynamoDB")

        // Nothing from before the cut-over was applied: every such record was counted as skipped.
        XCTAssertGreaterThanOrEqual(recordsBefore, seeded.count, "the forward daemon's writes are in Alternator's stream")
        XCTAssertTrue(eventually(10) { ((try? StatusReport.read(path: dir + "/reverse-status.json"))??.totals.beforeCutover ?? -1) == recordsBefore })
        let totals = try XCTUnwrap(try StatusReport.read(path: dir + "/reverse-status.json")).totals
        XCTAssertLessThanOrEqual(totals.put + totals.deleted, applicationWrites, "only the application's writes flowed back")
        XCTAssertGreaterThan(totals.pairedRemoves, 0, "puts arrived as REMOVE then MODIFY, and were applied as one put")
        kill(reverse.processIdentifier, SIGTERM)
        XCTAssertEqual(exitStatus(reverse, within: 20), 0, Self.text(dir + "/reverse.log"))

        // The way back verified: Alternator as the source, DynamoDB as the target.
        let verify = try MotoKillTests.launch(["verify", "--config", dir + "/reverse.yaml", "--report", dir + "/reverse-mismatches.jsonl"],
                                              log: dir + "/reverse-verify.log")
        XCTAssertEqual(exitStatus(verify, within: 60), 0, Self.text(dir + "/reverse-verify.log"))
        XCTAssertTrue(Self.text(dir + "/reverse-verify.log").contains("in sync"), Self.text(dir + "/reverse-verify.log"))
    }
}
