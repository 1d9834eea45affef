@testable import AWSClient
import DynamoModel
import XCTest

final class StreamRecordDecodingTests: XCTestCase {
    /// A GetRecords answer decoded as the client decodes it (no network).
    private func decode(_ body: String, keySchema: KeySchema? = nil) throws -> RecordsPage {
        let client = AWSJSONClient(endpoint: Endpoint(url: "http://127.0.0.1:1", region: "us-east-1",
                                                      service: .dynamodbStreams, isCustom: true),
                                   targetPrefix: "DynamoDBStreams_20120810",
                                   credentials: StaticCredentialProvider(accessKeyId: "AKID", secretAccessKey: "secret"),
                                   transport: FakeHTTPTransport.unused())
        return try DynamoDBStreamsClient.decodeRecords(Array(body.utf8), client: client, keySchema: keySchema)
    }

    func testWithTheKeySchema_eachNewImageIsCheckedAndKeyedInTheWalk_andABadImageIsLeftForTheMapper() throws {
        let page = try decode("""
            {"Records":[{"eventName":"INSERT","dynamodb":{"Keys":{"pk":{"S":"a"}},"NewImage":{"pk":{"S":"a"},"n":{"N":"1"}},"SequenceNumber":"1"}},
            {"eventName":"INSERT","dynamodb":{"Keys":{"pk":{"S":"b"}},"NewImage":{"pk":{"S":"b"},"n":{"N":"not a number"}},"SequenceNumber":"2"}},
            {"eventName":"REMOVE","dynamodb":{"Keys":{"pk":{"S":"c"}},"SequenceNumber":"3"}}]}
            """, keySchema: KeySchema(partitionKey: "pk"))
        XCTAssertEqual(page.records.count, 3, "one bad image does not fail the page")
        XCTAssertEqual(page.records[0].newImageKey, try KeySchema(partitionKey: "pk").key(of: ["pk": .s("a")]))
        XCTAssertNil(page.records[1].newImageKey, "breaks the DynamoDB rules: the mapper dead-letters it")
        XCTAssertNotNil(page.records[1].newImage)
        XCTAssertNil(page.records[2].newImageKey)
    }

    func testPage_readInOneWalk_keepsImagesAsViews_andTheNextIterator() throws {
        let page = try decode("""
            {"Records":[{"eventID":"e1","eventName":"INSERT","awsRegion":"x","dynamodb":{"ApproximateCreationDateTime":1700000000,
            "Keys":{"pk":{"S":"a"}},"NewImage":{"pk":{"S":"a"},"n":{"N":"1.50"},"l":{"L":[{"S":"x\\u00e9"}]}},
            "SequenceNumber":"0042","SizeBytes":9,"StreamViewType":"NEW_IMAGE"}},
            {"eventName":"REMOVE","dynamodb":{"Keys":{"pk":{"S":"b"}},"SequenceNumber":"43"}}],"NextShardIterator":"next-it"}
            """)
        XCTAssertEqual(page.nextShardIterator, "next-it")
        XCTAssertEqual(page.records.map(\.eventName), ["INSERT", "REMOVE"])
        XCTAssertEqual(page.records[0].sequenceNumber, "0042")
        XCTAssertEqual(page.records[0].approximateCreationDateTime, 1_700_000_000)
        XCTAssertEqual(try page.records[0].newImage?.readItem()["n"], .n("1.50"))
        XCTAssertEqual(try page.records[1].keys.readItem(), ["pk": .s("b")])
        XCTAssertNil(page.records[1].eventID)
    }

    func testMalformedPage_isAClearError_notACrash() {
        for body in [#"{"Records":[{"eventName":"INSERT","dynamodb":{"Keys":{"pk":{"S":"a"}}"#,   // truncated
                     #"{"Records":[{"eventName":"INSERT","dynamodb":{"Keys":{"pk":{"S":"a\#u{01}"}}}}]}"#,  // control character
                     #"{"Records":[],"NextShardIterator":"a"} trailing"#] {
            XCTAssertThrowsError(try decode(body), body) { error in
                XCTAssertTrue("\(error)".contains("GetRecords"), "\(error)")
            }
        }
        XCTAssertThrowsError(try decode(#"{"Records":[{"eventName":"INSERT","dynamodb":{"Keys":{"pk":{"S":"a"}}}}]}"#)) { error in
            XCTAssertTrue("\(error)".contains("without eventName, dynamodb.SequenceNumber"), "\(error)")
        }
    }

    private func page(userIdentity: String) throws -> RecordsPage {
        try decode("""
            {"Records":[{"eventID":"e1","eventName":"REMOVE","userIdentity":\(userIdentity),
            "dynamodb":{"SequenceNumber":"100","Keys":{"pk":{"S":"a"}},"SizeBytes":5}}],"NextShardIterator":"it"}
            """)
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

final class URLHostTests: XCTestCase {
    func testHost_dropsUserInfoPathAndQuery_soNoSecretReachesAMessage() {
        XCTAssertEqual(URLHost.of("https://user:secret@node1.example.com:8043/path?X-Amz-Signature=abc"), "node1.example.com:8043")
        XCTAssertEqual(URLHost.of("http://127.0.0.1:8000"), "127.0.0.1:8000")
        XCTAssertEqual(URLHost.of("http://[::1]:8000/x"), "[::1]:8000")
        XCTAssertEqual(URLHost.of("no-scheme"), "no-scheme")
    }
}
