import AWSClient
import DynamoModel
import FerryKit
import Foundation
import Replication
import XCTest

/// `ferry stream` (the binary) with a dead node listed first in
/// target.endpoints, scraped over HTTP while it streams.
final class MotoDeadNodeBinaryTests: TemporaryDirectoryTestCase {
    func testStream_withTheFirstNodeDead_replicates_warnsOnce_andServesMetricsOverHTTP() throws {
        let url = try MotoStreamTests.motoURL()
        let table = "stream-dead-bin-\(UUID().uuidString.prefix(6))"
        let key = [KeySchemaElement(attributeName: "pk", keyType: "HASH")]
        let attrs = [AttributeDefinition(attributeName: "pk", attributeType: "S")]
        let source = MotoStreamTests.client(url, region: "us-east-1")
        _ = try source.createTable(TableDescription(tableName: table, keySchema: key, attributeDefinitions: attrs,
                                                    streamEnabled: true, streamViewType: .newAndOldImages))
        _ = try MotoStreamTests.client(url, region: "us-west-2").createTable(
            TableDescription(tableName: table, keySchema: key, attributeDefinitions: attrs))
        let port = MetricsServerTests.freePort()
        let dir: String = self.dir
        let config = dir + "/ferry.yaml"
        try """
            source: {table: \(table), region: us-east-1, endpoint: "\(url)", access_key_id: AKIDMOTO, secret_access_key: dead-node-secret-4b1e}
            target: {endpoints: ["http://127.0.0.1:1", "\(url)"], table: \(table), region: us-west-2}
            stream: {idle_backoff_max_ms: 50}
            state: {checkpoint: \(dir)/checkpoint.json, status: \(dir)/status.json, dead_letter: \(dir)/dead.jsonl, metrics_listen: "127.0.0.1:\(port)"}
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let log = dir + "/ferry.log"
        let process = try MotoKillTests.launch(["stream", "--config", config], log: log)
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }

        for i in 0..<30 { try source.putItem(table: table, item: ["pk": .s("k\(i)"), "v": .n(String(i))]) }
        for i in 0..<10 { try source.deleteItem(table: table, key: ["pk": .s("k\(i)")]) }
        let deadline = Date().addingTimeInterval(30)
        var synced = false, scraped = ""
        while Date() < deadline {
            if let response = try? MetricsServerTests.get("http://127.0.0.1:\(port)/metrics"), response.status == 200 {
                scraped = response.bodyText
            }
            if try MotoStreamTests.inSync(url, table), scraped.contains("ferry_records_applied_total{kind=\"delete\"} 10") {
                synced = true
                break
            }
            Thread.sleep(forTimeInterval: 0.2)
        }
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        XCTAssertTrue(synced, "not in sync or not scraped; metrics:\n\(scraped)\nlog:\n\(text.suffix(3000))")
        XCTAssertEqual(process.terminationStatus, 0, text.suffix(2000).description)
        XCTAssertTrue(scraped.contains(#"ferry_target_node_up{node="http://127.0.0.1:1"} 0"#), scraped)
        XCTAssertTrue(scraped.contains("ferry_target_node_up{node=\"\(url)\"} 1"), scraped)
        XCTAssertTrue(scraped.contains("ferry_phase{phase=\"streaming\"} 1"), scraped)
        XCTAssertFalse(scraped.contains("dead-node-secret-4b1e") || scraped.contains("\"k1\""), "counts only, no secrets or keys")
        XCTAssertEqual(text.components(separatedBy: "target node set aside").count - 1, 1, "one warning for the node going down:\n\(text)")
        let status = try XCTUnwrap(StatusReport.read(path: dir + "/status.json"))
        XCTAssertEqual(status.phase, .stopped)
        XCTAssertEqual(status.nodes?.map(\.up), [false, true])
    }
}
