import AWSClient
import DynamoModel
import StreamStandIn
import XCTest

final class WireFormatTests: XCTestCase {
    private func client(_ h: StandInHarness, prefix: String) -> AWSJSONClient {
        AWSJSONClient(
            endpoint: Endpoint(url: h.standIn.baseURL, region: "us-east-1", service: .dynamodb, isCustom: true),
            targetPrefix: prefix, credentials: StaticCredentialProvider(accessKeyId: "a", secretAccessKey: "b"),
            transport: CurlHTTPClient(), retry: RetryPolicy(maxAttempts: 1))
    }

    private func failure(_ call: () throws -> [UInt8]) -> AWSServiceError? {
        do {
            _ = try call()
            return nil
        } catch {
            return (error as? AWSClientError)?.serviceError
        }
    }

    func testErrors_carryTheNamespaceDynamoDBUses() throws {
        let h = try StandInHarness()
        defer { h.standIn.stop() }
        let dynamo = client(h, prefix: "DynamoDB_20120810")

        let wrongService = try XCTUnwrap(failure { try dynamo.attempt("GetRecords", body: Array("{}".utf8)) })
        XCTAssertEqual(wrongService.code, "UnknownOperationException", "Streams operations answer only under their own prefix")
        XCTAssertEqual(wrongService.status, 400)

        let garbled = try XCTUnwrap(failure { try dynamo.attempt("DescribeTable", body: Array("{not json".utf8)) })
        XCTAssertEqual(garbled.code, "SerializationException")

        let invalid = try XCTUnwrap(failure { try dynamo.attempt("DescribeTable", body: Array("{}".utf8)) })
        XCTAssertEqual(invalid.code, "ValidationException")
        XCTAssertEqual(try JSONValue.parse(invalid.rawBody)["__type"]?.stringValue, "com.amazon.coral.validate#ValidationException")

        let missing = try XCTUnwrap(failure { try dynamo.attempt("DescribeTable", body: Array(#"{"TableName":"nope"}"#.utf8)) })
        XCTAssertEqual(try JSONValue.parse(missing.rawBody)["__type"]?.stringValue,
                       "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException")

        h.standIn.inject(.internalError(times: 1))
        let serverError = try XCTUnwrap(failure { try dynamo.attempt("ListTables", body: Array("{}".utf8)) })
        XCTAssertEqual(serverError.status, 500)
        XCTAssertEqual(serverError.code, "InternalServerError")
        XCTAssertEqual(h.standIn.requestCounts[.listTables], 1)
    }

    func testCreateTableTwice_andUnsupportedParameters_areRefused() throws {
        let h = try StandInHarness()
        defer { h.standIn.stop() }
        try h.standIn.createTable(StandInTableSpec("t"))
        XCTAssertThrowsError(try h.standIn.createTable(StandInTableSpec("t"))) { error in
            XCTAssertEqual((error as? StandInError)?.code, .tableExists)
        }
        let dynamo = client(h, prefix: "DynamoDB_20120810")
        // The conditions a lease table needs are honoured...
        _ = try dynamo.attempt("PutItem", body: Array(#"{"TableName":"t","Item":{"pk":{"S":"c"}},"ConditionExpression":"attribute_not_exists(pk)"}"#.utf8))
        let again = try XCTUnwrap(failure {
            try dynamo.attempt("PutItem", body: Array(#"{"TableName":"t","Item":{"pk":{"S":"c"}},"ConditionExpression":"attribute_not_exists(pk)"}"#.utf8))
        })
        XCTAssertEqual(again.code, "ConditionalCheckFailedException")
        // ...and one it cannot honour is refused, not ignored.
        let conditional = try XCTUnwrap(failure {
            try dynamo.attempt("PutItem", body: Array(#"{"TableName":"t","Item":{"pk":{"S":"a"}},"ConditionExpression":"begins_with(pk, :p)","ExpressionAttributeValues":{":p":{"S":"a"}}}"#.utf8))
        })
        XCTAssertEqual(conditional.code, "ValidationException", "a condition the stand-in cannot honour is refused, not ignored")
        let nested = try XCTUnwrap(failure {
            try dynamo.attempt("UpdateItem", body: Array(#"{"TableName":"t","Key":{"pk":{"S":"a"}},"UpdateExpression":"SET a.b = :v","ExpressionAttributeValues":{":v":{"N":"1"}}}"#.utf8))
        })
        XCTAssertEqual(nested.code, "ValidationException")
        h.standIn.inject(.rejectItems(.matching { $0["n"]?.numberText == "13" }))
        XCTAssertEqual(serviceCode { try h.dynamo.putItem(table: "t", item: item("a", ["n": .n("13")])) }, "ValidationException")
        try h.dynamo.putItem(table: "t", item: item("a", ["n": .n("12")]))
    }
}
