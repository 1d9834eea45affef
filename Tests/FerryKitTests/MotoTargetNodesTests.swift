import AWSClient
import DynamoModel
@testable import FerryKit
import Foundation
import Logging
import Replication
import Synchronization
import Verify
import XCTest

/// Commands against a target whose node list holds a dead node
/// (127.0.0.1:1 refuses connections) beside a live one (moto).
final class MotoTargetNodesTests: TemporaryDirectoryTestCase {
    static let dead = "http://127.0.0.1:1"

    private func sourceTable(_ url: String, items: Int, copyToTarget: Bool) throws -> String {
        let table = "nodes-\(UUID().uuidString.prefix(6))"
        let key = [KeySchemaElement(attributeName: "pk", keyType: "HASH")]
        let attrs = [AttributeDefinition(attributeName: "pk", attributeType: "S")]
        let source = MotoStreamTests.client(url, region: "us-east-1"), target = MotoStreamTests.client(url, region: "us-west-2")
        _ = try source.createTable(TableDescription(tableName: table, keySchema: key, attributeDefinitions: attrs))
        if copyToTarget { _ = try target.createTable(TableDescription(tableName: table, keySchema: key, attributeDefinitions: attrs)) }
        for i in 0..<items {
            let item: Item = ["pk": .s("item-\(i)"), "v": .n("\(i)")]
            try source.putItem(table: table, item: item)
            if copyToTarget { try target.putItem(table: table, item: item) }
        }
        return table
    }

    private func config(_ url: String, table: String, endpoints: [String]) -> FerryConfig {
        var c = motoConfig(url, table: table)
        c.target.endpoints = endpoints
        c.state.status = dir + "/status.json"
        c.verify.segments = 2
        c.verify.recheckDelayMilliseconds = 20
        c.verify.recheckAttempts = 1
        c.verify.report = dir + "/mismatches.jsonl"
        return c
    }

    func testCreateTable_withTheFirstNodeDead_createsItOnTheLiveNode() throws {
        let url = try MotoStreamTests.motoURL()
        let table = try sourceTable(url, items: 0, copyToTarget: false)
        let c = config(url, table: table, endpoints: [Self.dead, url])
        let services = try Services(config: c, environment: [:])
        guard case .created = try CreateTableRunner(config: c, services: services, logger: Logger(label: "test")).run() else {
            return XCTFail("expected a new table")
        }
        XCTAssertEqual(try MotoStreamTests.client(url, region: "us-west-2").describeTable(table).tableName, table)
        XCTAssertEqual(services.targetNodes.states.map(\.up), [false, true])
    }

    func testVerify_withADeadNodeFirstOrSecond_findsTheTablesInSync() throws {
        let url = try MotoStreamTests.motoURL()
        let table = try sourceTable(url, items: 30, copyToTarget: true)
        for endpoints in [[Self.dead, url], [url, Self.dead]] {
            let c = config(url, table: table, endpoints: endpoints)
            let runner = VerifyRunner(config: c, services: try Services(config: c, environment: [:]), logger: Logger(label: "test"))
            XCTAssertEqual(runner.run(VerifyRequest()), 0, "\(endpoints)")
        }
    }

    func testStartup_whileNoNodeAnswers_waitsWithBackoff_saysSoInTheStatusFile_andGoesOnWhenOneAnswers() throws {
        let url = try MotoStreamTests.motoURL()
        let table = try sourceTable(url, items: 0, copyToTarget: true)
        let c = config(url, table: table, endpoints: [Self.dead, "http://127.0.0.1:2"])
        let client: @Sendable (String) -> AWSJSONClient = { endpoint in
            AWSJSONClient(endpoint: Endpoint(url: endpoint, region: "us-west-2", service: .dynamodb, isCustom: true),
                          targetPrefix: "DynamoDB_20120810", credentials: StaticCredentialProvider(accessKeyId: "a", secretAccessKey: "b"),
                          transport: CurlHTTPClient(), retry: RetryPolicy(maxAttempts: 1))
        }
        let nodes = TargetNodes(clients: c.target.endpoints.map(client))
        let sleeps = Mutex<[Double]>([])
        let statusDuringWait = Mutex<StatusReport?>(nil)
        let path = c.state.status
        let wait = TargetWait(nodes: nodes, config: c, logger: Logger(label: "test")) { seconds in
            let count = sleeps.withLock { $0.append(seconds); return $0.count }
            if count == 1 { statusDuringWait.withLock { $0 = try? StatusReport.read(path: path) } }
            if count == 2 { nodes.replace([client(Self.dead), client(url)]) }
            return true
        }
        let description = try wait.run("checking the target table") { try nodes.client.describeTable(table) }
        XCTAssertEqual(description.tableName, table)
        XCTAssertEqual(sleeps.withLock { $0 }, [1, 2], "backoff doubles")
        let status = try XCTUnwrap(statusDuringWait.withLock { $0 })
        XCTAssertEqual(status.phase, .starting)
        XCTAssertTrue(status.lastError?.contains("no target node answers") == true, status.lastError ?? "nil")
        XCTAssertEqual(status.nodes?.map(\.up), [false, false])
        XCTAssertEqual(status.nodes?.map(\.url), [Self.dead, "http://127.0.0.1:2"])
    }

    func testStartup_aStopWhileWaiting_endsTheWait() throws {
        let c = config("http://127.0.0.1:1", table: "t", endpoints: [Self.dead])
        let nodes = TargetNodes(clients: [AWSJSONClient(
            endpoint: Endpoint(url: Self.dead, region: "us-west-2", service: .dynamodb, isCustom: true),
            targetPrefix: "DynamoDB_20120810", credentials: StaticCredentialProvider(accessKeyId: "a", secretAccessKey: "b"),
            transport: CurlHTTPClient(), retry: RetryPolicy(maxAttempts: 1))])
        let sleep = StoppableSleep()
        sleep.stop()
        let wait = TargetWait(nodes: nodes, config: c, logger: Logger(label: "test")) { sleep.sleep($0) }
        XCTAssertThrowsError(try wait.run("checking") { try nodes.client.describeTable("t") }) { error in
            XCTAssertTrue(error is TargetWait.Stopped, "\(error)")
        }
    }
}
