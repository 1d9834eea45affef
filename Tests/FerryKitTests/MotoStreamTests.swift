import AWSClient
import Dispatch
import DynamoModel
@testable import FerryKit
import Foundation
import Logging
import Replication
import XCTest

/// `ferry stream` against moto's server: the real DynamoDB and Streams wire
/// protocols, one shard. The source lives in us-east-1, the target (a
/// stand-in for Alternator) in us-west-2 of the same server.
final class MotoStreamTests: TemporaryDirectoryTestCase {
    static func motoURL() throws -> String {
        guard let url = ProcessInfo.processInfo.environment["FERRY_MOTO_ENDPOINT"], !url.isEmpty else {
            throw SetupError("FERRY_MOTO_ENDPOINT is not set: run the tests with scripts/test.sh, which starts moto")
        }
        return url
    }

    static func client(_ url: String, region: String) -> DynamoDBClient {
        DynamoDBClient(endpoint: Endpoint(url: url, region: region, service: .dynamodb, isCustom: true),
                       credentials: StaticCredentialProvider(accessKeyId: "AKIDMOTO", secretAccessKey: "moto"),
                       transport: CurlHTTPClient(), retry: RetryPolicy(maxAttempts: 3))
    }

    func config(_ url: String, table: String) -> FerryConfig {
        var c = motoConfig(url, table: table)
        c.state.checkpoint = dir + "/checkpoint.json"
        c.state.status = dir + "/status.json"
        c.state.deadLetter = dir + "/dead.jsonl"
        c.stream.idleBackoffMaxMilliseconds = 50
        c.stream.lanes = 3
        return c
    }

    func createTables(_ url: String, _ name: String, view: StreamViewType) throws {
        let key = [KeySchemaElement(attributeName: "pk", keyType: "HASH"), KeySchemaElement(attributeName: "sk", keyType: "RANGE")]
        let attrs = [AttributeDefinition(attributeName: "pk", attributeType: "S"), AttributeDefinition(attributeName: "sk", attributeType: "N")]
        _ = try Self.client(url, region: "us-east-1").createTable(
            TableDescription(tableName: name, keySchema: key, attributeDefinitions: attrs, streamEnabled: true, streamViewType: view))
        _ = try Self.client(url, region: "us-west-2").createTable(
            TableDescription(tableName: name, keySchema: key, attributeDefinitions: attrs))
    }

    /// Writes inserts, overwrites and deletes of every attribute type.
    func writeChanges(_ db: DynamoDBClient, _ table: String, round: Int) throws {
        for i in 0..<12 {
            try db.putItem(table: table, item: [
                "pk": .s("user#\(i % 4)"), "sk": .n(String(i)), "round": .n(String(round)),
                "name": .s("Zoë \(i) \"q\" 日本"), "blob": .b([UInt8(i), 0, 255]), "flag": .bool(i % 2 == 0), "none": .null,
                "tags": .ss(["a", "b\(i)"]), "nums": .ns(["1.5", String(i)]), "bins": .bs([[1], [UInt8(i)]]),
                "map": .m(["list": .l([.n("38"), .s("x"), .m(["deep": .n("12345678901234567890123456789012345678")])])]),
            ])
        }
        for i in stride(from: 0, to: 12, by: 3) {
            try db.putItem(table: table, item: ["pk": .s("user#\(i % 4)"), "sk": .n(String(i)), "round": .n(String(round)), "changed": .bool(true)])
        }
        for i in stride(from: 1, to: 12, by: 4) {
            try db.deleteItem(table: table, key: ["pk": .s("user#\(i % 4)"), "sk": .n(String(i))])
        }
    }

    static func scanAll(_ db: DynamoDBClient, _ table: String) throws -> [Item] {
        var out: [Item] = []
        var start: Item?
        repeat {
            let page = try db.scan(table: table, exclusiveStartKey: start)
            out += try page.decodedItems()
            start = page.lastEvaluatedKey
        } while start != nil
        return out
    }

    /// True when both tables hold the same items (DynamoDB semantics).
    static func inSync(_ url: String, _ table: String) throws -> Bool {
        let source = try scanAll(client(url, region: "us-east-1"), table)
        let target = try scanAll(client(url, region: "us-west-2"), table)
        guard source.count == target.count else { return false }
        func key(_ item: Item) -> String { "\(item["pk"]?.stringValue ?? "")/\(item["sk"]?.numberText ?? "")" }
        let byKey = Dictionary(uniqueKeysWithValues: target.map { (key($0), $0) })
        return source.allSatisfy { byKey[key($0)].map($0.semanticallyEquals) ?? false }
    }

    /// Runs a replicator in-process until the tables agree; returns its totals.
    func replicate(_ config: FerryConfig, url: String, table: String) throws -> ReplicationCounters.Totals {
        let runner = StreamRunner(config: config, services: try Services(config: config, environment: [:]),
                                  logger: Logger(label: "test"))
        let (replicator, target, pool) = try runner.prepare()
        let pump = runner.statusPump(replicator, target)
        pump.start()
        let done = DispatchSemaphore(value: 0)
        let outcome = OutcomeBox()
        DispatchQueue.global().async {
            outcome.set(replicator.run(target: target, poolOptions: pool))
            done.signal()
        }
        let deadline = Date().addingTimeInterval(30)
        var synced = false
        while Date() < deadline {
            if try Self.inSync(url, table) && replicator.statusReport().lagSeconds == 0 { synced = true; break }
            Thread.sleep(forTimeInterval: 0.1)
        }
        replicator.stop()
        XCTAssertEqual(done.wait(timeout: .now() + 30), .success)
        pump.finish()
        XCTAssertEqual(outcome.get(), .stopped)
        XCTAssertTrue(synced, "target did not converge to the source")
        return replicator.statusReport().totals
    }

    func testEveryViewType_insertsUpdatesAndDeletes_reachTheTarget() throws {
        let url = try Self.motoURL()
        for view in StreamViewType.allCases {
            let table = "stream-\(view.rawValue.lowercased().replacingOccurrences(of: "_", with: "-"))-\(UUID().uuidString.prefix(6))"
            try createTables(url, table, view: view)
            try writeChanges(Self.client(url, region: "us-east-1"), table, round: 1)
            try? FileManager.default.removeItem(atPath: dir + "/checkpoint.json")
            let totals = try replicate(config(url, table: table), url: url, table: table)
            XCTAssertEqual(totals.read, 12 + 4 + 3, "\(view): every record read once")
            XCTAssertGreaterThan(totals.deleted, 0, "\(view): deletes replicated")
        }
    }

    func testRestart_resumesFromTheCheckpoint() throws {
        let url = try Self.motoURL()
        let table = "stream-restart-\(UUID().uuidString.prefix(6))"
        try createTables(url, table, view: .newAndOldImages)
        let db = Self.client(url, region: "us-east-1")
        try writeChanges(db, table, round: 1)
        let first = try replicate(config(url, table: table), url: url, table: table)
        XCTAssertEqual(first.read, 19)

        let checkpoint = try XCTUnwrap(FileCheckpointStore(path: dir + "/checkpoint.json").load())
        XCTAssertEqual(checkpoint.shards.count, 1)
        XCTAssertNotNil(checkpoint.shards.values.first?.sequence)

        try writeChanges(db, table, round: 2)
        let second = try replicate(config(url, table: table), url: url, table: table)
        XCTAssertEqual(second.read, 19, "only the records after the checkpoint are read again")
    }

    func testStatusFile_describesTheRun() throws {
        let url = try Self.motoURL()
        let table = "stream-status-\(UUID().uuidString.prefix(6))"
        try createTables(url, table, view: .newImage)
        try writeChanges(Self.client(url, region: "us-east-1"), table, round: 1)
        _ = try replicate(config(url, table: table), url: url, table: table)
        let report = try XCTUnwrap(StatusReport.read(path: dir + "/status.json"))
        XCTAssertEqual(report.phase, .stopped)
        XCTAssertEqual(report.shards.count, 1)
        XCTAssertEqual(report.shards.first?.recordsApplied, 19)
        XCTAssertEqual(report.targetTable, table)
        XCTAssertTrue(HealthCheck.judge(path: dir + "/status.json", now: Date(), maxAge: 30).healthy)
    }

    func testFirstTargetNodeDead_streamingGoesOn_andTheStatusFileShowsTheNodes() throws {
        let url = try Self.motoURL()
        let table = "stream-deadnode-\(UUID().uuidString.prefix(6))"
        try createTables(url, table, view: .newAndOldImages)
        try writeChanges(Self.client(url, region: "us-east-1"), table, round: 1)
        var c = config(url, table: table)
        c.target.endpoints = ["http://127.0.0.1:1", url]
        let totals = try replicate(c, url: url, table: table)
        XCTAssertEqual(totals.read, 19)
        let report = try XCTUnwrap(StatusReport.read(path: dir + "/status.json"))
        let nodes = try XCTUnwrap(report.nodes, "the status file lists the target's nodes")
        XCTAssertEqual(nodes.map(\.url), ["http://127.0.0.1:1", url])
        XCTAssertEqual(nodes.map(\.up), [false, true])
        XCTAssertGreaterThan(nodes[0].failures, 0)
        XCTAssertEqual(nodes[1].failures, 0)
        XCTAssertTrue(MetricsFile.render(report).contains(#"ferry_target_node_up{node="http://127.0.0.1:1"} 0"#))
    }

    func testMissingTargetTable_isAClearSetupError() throws {
        let url = try Self.motoURL()
        let table = "stream-notarget-\(UUID().uuidString.prefix(6))"
        _ = try Self.client(url, region: "us-east-1").createTable(TableDescription(
            tableName: table, keySchema: [KeySchemaElement(attributeName: "pk", keyType: "HASH")],
            attributeDefinitions: [AttributeDefinition(attributeName: "pk", attributeType: "S")],
            streamEnabled: true, streamViewType: .newImage))
        let runner = StreamRunner(config: config(url, table: table), services: try Services(config: config(url, table: table), environment: [:]),
                                  logger: Logger(label: "test"))
        XCTAssertThrowsError(try runner.prepare()) { error in
            XCTAssertTrue("\(error)".contains("does not exist"), "\(error)")
            XCTAssertTrue("\(error)".contains("ferry create-table"), "\(error)")
        }
    }

    func testTableWithoutStream_saysHowToEnableOne() throws {
        let url = try Self.motoURL()
        let table = "stream-none-\(UUID().uuidString.prefix(6))"
        _ = try Self.client(url, region: "us-east-1").createTable(TableDescription(
            tableName: table, keySchema: [KeySchemaElement(attributeName: "pk", keyType: "HASH")],
            attributeDefinitions: [AttributeDefinition(attributeName: "pk", attributeType: "S")]))
        let services = try Services(config: config(url, table: table), environment: [:])
        XCTAssertThrowsError(try services.streamArn()) { error in
            XCTAssertTrue("\(error)".contains("--stream-specification StreamEnabled=true"), "\(error)")
        }
    }
}

final class OutcomeBox: @unchecked Sendable {
    private let lock = NSLock()
    private var value: ReplicationOutcome?
    func set(_ v: ReplicationOutcome) { lock.lock(); value = v; lock.unlock() }
    func get() -> ReplicationOutcome? { lock.lock(); defer { lock.unlock() }; return value }
}
