@testable import AWSClient
import DynamoModel
import XCTest

final class StreamRecordDecodingTests: XCTestCase {
    private func page(userIdentity: String) throws -> RecordsPage {
        let body = """
            {"Records":[{"eventID":"e1","eventName":"REMOVE","userIdentity":\(userIdentity),
            "dynamodb":{"SequenceNumber":"100","Keys":{"pk":{"S":"a"}},"SizeBytes":5}}],"NextShardIterator":"it"}
            """
        let client = AWSJSONClient(endpoint: Endpoint(url: "http://127.0.0.1:1", region: "us-east-1",
                                                      service: .dynamodbStreams, isCustom: true),
                                   targetPrefix: "DynamoDBStreams_20120810",
                                   credentials: StaticCredentialProvider(accessKeyId: "AKID", secretAccessKey: "secret"),
                                   transport: FakeHTTPTransport.unused())
        return try DynamoDBStreamsClient.decodeRecords(Array(body.utf8), client: client)
    }

    func testTTLExpiry_isRecognised_inTheGetRecordsSpelling() throws {
        // GetRecords (the Streams API's Identity shape) spells the members Type and PrincipalId.
        let record = try XCTUnwrap(page(userIdentity: #"{"PrincipalId":"dynamodb.amazonaws.com","Type":"Service"}"#).records.first)
        XCTAssertTrue(record.isTTLExpiry)
    }

    func testTTLExpiry_isRecognised_inTheLambdaSpelling() throws {
        let record = try XCTUnwrap(page(userIdentity: #"{"principalId":"dynamodb.amazonaws.com","type":"Service"}"#).records.first)
        XCTAssertTrue(record.isTTLExpiry)
    }

    func testRemoveByAUser_isNotATTLExpiry() throws {
        let record = try XCTUnwrap(page(userIdentity: #"{"PrincipalId":"someone","Type":"Service"}"#).records.first)
        XCTAssertFalse(record.isTTLExpiry)
        XCTAssertFalse(try XCTUnwrap(page(userIdentity: "null").records.first).isTTLExpiry)
    }
}
