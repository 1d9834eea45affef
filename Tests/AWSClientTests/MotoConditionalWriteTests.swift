import AWSClient
import DynamoModel
import Foundation
import XCTest

/// Conditional writes against moto: the owner-and-counter checks a lease
/// table is built on.
final class MotoConditionalWriteTests: XCTestCase {
    func testConditionalWrites_applyOnlyWhenTheConditionHolds_andAFailedConditionIsAnAnswerNotAnError() throws {
        let dynamo = try MotoDynamoDBTests.dynamo(try MotoEnvironment.endpoint())
        let table = "leases-\(UUID().uuidString.prefix(8))"
        _ = try dynamo.createTable(TableDescription(
            tableName: table, keySchema: [KeySchemaElement(attributeName: "pk", keyType: "HASH")],
            attributeDefinitions: [AttributeDefinition(attributeName: "pk", attributeType: "S")]))
        let key: Item = ["pk": .s("shard-1")]
        let absent = DynamoDBClient.Condition("attribute_not_exists(pk)")
        XCTAssertTrue(try dynamo.putItem(table: table, item: key.merging(["counter": .n("0")]) { a, _ in a }, if: absent))
        XCTAssertFalse(try dynamo.putItem(table: table, item: key.merging(["counter": .n("9")]) { a, _ in a }, if: absent),
                       "the row exists: a second create must not overwrite it")

        // Take: owner set and counter raised only if the counter is still the one seen.
        func take(_ worker: String, seen: Int) throws -> Bool {
            try dynamo.updateItem(table: table, key: key, updateExpression: "SET #o = :me, #c = :next",
                                  names: ["#o": "owner"], values: [":me": .s(worker), ":next": .n(String(seen + 1))],
                                  if: .init("#c = :seen", names: ["#c": "counter"], values: [":seen": .n(String(seen))]))
        }
        XCTAssertTrue(try take("worker-a", seen: 0))
        XCTAssertFalse(try take("worker-b", seen: 0), "worker-b saw an old counter")
        XCTAssertEqual(try dynamo.getItem(table: table, key: key, consistentRead: true)?["owner"], .s("worker-a"))
        XCTAssertFalse(try dynamo.deleteItem(table: table, key: key, if: .init("#o = :me", names: ["#o": "owner"],
                                                                              values: [":me": .s("worker-b")])))
        XCTAssertTrue(try dynamo.deleteItem(table: table, key: key, if: .init("#o = :me", names: ["#o": "owner"],
                                                                             values: [":me": .s("worker-a")])))
        XCTAssertNil(try dynamo.getItem(table: table, key: key, consistentRead: true))
        // Anything else still throws: a missing table is not "condition failed".
        XCTAssertThrowsError(try dynamo.putItem(table: table + "-missing", item: key, if: absent))
    }
}
