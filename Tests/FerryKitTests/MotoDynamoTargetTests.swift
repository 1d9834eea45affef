import AWSClient
import DynamoModel
@testable import FerryKit
import Foundation
import Replication
import Synchronization
import XCTest

/// moto as a DynamoDB target (`target.type: dynamodb`): what Alternator
/// accepted but DynamoDB refuses goes to the dead-letter file.
final class MotoDynamoTargetTests: TemporaryDirectoryTestCase {
    func testOversizedItem_goesToTheDeadLetterFileWithTheReason_andTheRestIsApplied() throws {
        let url = try MotoStreamTests.motoURL()
        let table = "dt-\(UUID().uuidString.prefix(6))"
        let schema = KeySchema(partitionKey: "pk")
        _ = try MotoStreamTests.client(url, region: "eu-west-1").createTable(TableDescription(
            tableName: table, keySchema: [KeySchemaElement(attributeName: "pk", keyType: "HASH")],
            attributeDefinitions: [AttributeDefinition(attributeName: "pk", attributeType: "S")]))

        var config = FerryConfig()
        config.source.table = table
        config.source.region = "us-east-1"
        config.target.type = .dynamodb
        config.target.endpoints = [url]
        config.target.table = table
        config.target.region = "eu-west-1"
        config.target.credentials.accessKeyId = "AKIDMOTO"
        config.target.credentials.secretAccessKey = "moto"
        config.state.deadLetter = dir + "/dead.jsonl"
        let services = try Services(config: config, environment: ["AWS_EC2_METADATA_DISABLED": "true"])

        let acked = Mutex<[String]>([])
        let counters = ReplicationCounters()
        let pool = WriterPool(options: config.writerPoolOptions, target: AlternatorTarget(table: table, nodes: services.targetNodes),
                              keySchema: schema, counters: counters, deadLetters: try DeadLetterFile(path: config.state.deadLetter),
                              onApplied: { origins in acked.withLock { $0 += origins.map(\.sequence.digits) } })
        let secretPadding = String(repeating: "q", count: 401 * 1024)  // over DynamoDB's 400 KB
        for n in 1...30 {
            let item: Item = n == 7 ? ["pk": .s("big"), "pad": .s(secretPadding)] : ["pk": .s("k\(n)"), "v": .n(String(n))]
            var w = DynamoJSONWriter()
            w.writeItem(item)
            pool.submit(Change(kind: .put, key: try schema.key(of: item), payload: w.bytes,
                               origin: .init(source: "shard-1", sequence: SequenceNumber(String(n))!, ticket: n)))
        }
        XCTAssertTrue(pool.drain(deadline: .now() + 60))
        XCTAssertNil(pool.fatalError)

        XCTAssertEqual(Set(acked.withLock { $0 }), Set((1...30).map(String.init)), "the shard moves on past the refused item")
        XCTAssertEqual(counters.snapshot.deadLettered, 1)
        XCTAssertEqual(counters.snapshot.put, 29)
        XCTAssertEqual(counters.snapshot.writeUnits, 29, "refused writes spend no capacity")
        let client = MotoStreamTests.client(url, region: "eu-west-1")
        XCTAssertNil(try client.getItem(table: table, key: ["pk": .s("big")]))
        for n in [1, 6, 8, 30] {
            XCTAssertEqual(try client.getItem(table: table, key: ["pk": .s("k\(n)")])?["v"], .n(String(n)))
        }
        let lines = try String(contentsOfFile: config.state.deadLetter, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, 1)
        let line = String(lines[0])
        XCTAssertTrue(line.contains(#""keys":{"pk":{"S":"big"}}"#), line)
        XCTAssertTrue(line.contains(#""sequence":"7""#), line)
        XCTAssertTrue(line.contains("ValidationException"), line)
        XCTAssertTrue(line.contains("Item size has exceeded the maximum allowed size"), line)
        XCTAssertFalse(line.contains("qqqq"), "the item's values stay out of the reason")
    }
}
