import AWSClient
import DynamoModel
import XCTest

/// The DynamoDB operations against moto's server: the real wire protocol.
final class MotoDynamoDBTests: XCTestCase {
    static let credentials = StaticCredentialProvider(accessKeyId: "AKIDFERRYTEST", secretAccessKey: "ferry-test-secret")

    static func dynamo(_ url: String, region: String = "us-east-1") throws -> DynamoDBClient {
        DynamoDBClient(endpoint: Endpoint(url: url, region: region, service: .dynamodb, isCustom: true),
                       credentials: credentials, transport: CurlHTTPClient(),
                       retry: RetryPolicy(maxAttempts: 3))
    }

    static func table(_ name: String, stream: StreamViewType? = .newAndOldImages) -> TableDescription {
        TableDescription(
            tableName: name,
            keySchema: [KeySchemaElement(attributeName: "pk", keyType: "HASH"),
                        KeySchemaElement(attributeName: "sk", keyType: "RANGE")],
            attributeDefinitions: [AttributeDefinition(attributeName: "pk", attributeType: "S"),
                                   AttributeDefinition(attributeName: "sk", attributeType: "N"),
                                   AttributeDefinition(attributeName: "email", attributeType: "S")],
            globalSecondaryIndexes: [SecondaryIndex(indexName: "by-email",
                                                    keySchema: [KeySchemaElement(attributeName: "email", keyType: "HASH")],
                                                    projection: Projection(projectionType: "ALL"))],
            streamEnabled: stream != nil, streamViewType: stream)
    }

    /// An item with every one of the ten attribute types.
    static func everyType(pk: String, sk: Int) -> Item {
        [
            "pk": .s(pk), "sk": .n(String(sk)),
            "email": .s("\(pk)@example.com"),
            "name": .s("Zoë \"quoted\" \\ 日本 🚀\n"),
            "big": .n("12345678901234567890123456789012345678"),
            "tiny": .n("-0.000000000000000000000000000000000001"),
            "blob": .b([0, 1, 2, 0xff, 0xfe]),
            "flag": .bool(true),
            "nothing": .null,
            "map": .m(["nested": .l([.s("a"), .n("1"), .m(["deep": .bool(false)])])]),
            "list": .l([]),
            "tags": .ss(["x", "y"]),
            "scores": .ns(["1", "2.5"]),
            "blobs": .bs([[1], [2, 3]]),
        ]
    }

    func testCreateDescribeAndItemRoundTrip_overEveryType() throws {
        let db = try Self.dynamo(try MotoEnvironment.endpoint())
        let name = MotoEnvironment.uniqueName("roundtrip")
        let created = try db.createTable(Self.table(name))
        XCTAssertEqual(created.tableName, name)
        defer { try? db.deleteTable(name) }

        let described = try db.describeTable(name)
        XCTAssertEqual(described.primaryKey, KeySchema(partitionKey: "pk", sortKey: "sk"))
        XCTAssertEqual(described.globalSecondaryIndexes.map(\.indexName), ["by-email"])
        XCTAssertEqual(described.streamViewType, .newAndOldImages)
        XCTAssertNotNil(described.latestStreamArn)
        XCTAssertEqual(described.billingMode, "PAY_PER_REQUEST")

        let item = Self.everyType(pk: "user#1", sk: 7)
        try db.putItem(table: name, item: item)
        let got = try XCTUnwrap(try db.getItem(table: name, key: ["pk": .s("user#1"), "sk": .n("7")], consistentRead: true))
        XCTAssertTrue(got.semanticallyEquals(item), "differences: \(got.diff(item))")

        try db.deleteItem(table: name, key: ["pk": .s("user#1"), "sk": .n("7")])
        XCTAssertNil(try db.getItem(table: name, key: ["pk": .s("user#1"), "sk": .n("7")]))
    }

    func testBatchWrite_scanInSegments_andBatchGet() throws {
        let db = try Self.dynamo(try MotoEnvironment.endpoint())
        let name = MotoEnvironment.uniqueName("batch")
        _ = try db.createTable(Self.table(name, stream: nil))
        defer { try? db.deleteTable(name) }

        var written: [Item] = []
        for chunk in stride(from: 0, to: 60, by: 25) {
            var writes: [WriteRequest] = []
            for i in chunk..<min(chunk + 25, 60) {
                let item = Self.everyType(pk: "p\(i % 7)", sk: i)
                written.append(item)
                var w = DynamoJSONWriter()
                w.writeItem(item)
                writes.append(.put(item: w.bytes[...]))
            }
            XCTAssertEqual(try db.batchWriteItem(table: name, writes: writes).count, 0)
        }
        // A delete in a batch too.
        XCTAssertEqual(try db.batchWriteItem(table: name, writes: [.delete(key: Array(#"{"pk":{"S":"p0"},"sk":{"N":"0"}}"#.utf8)[...])]).count, 0)

        var scanned: [Item] = []
        for segment in 0..<3 {
            var start: Item?
            repeat {
                let page = try db.scan(table: name, segment: segment, totalSegments: 3, exclusiveStartKey: start, limit: 10)
                scanned += try page.decodedItems()
                start = page.lastEvaluatedKey
            } while start != nil
        }
        XCTAssertEqual(scanned.count, 59)
        XCTAssertEqual(Set(scanned.map { $0["sk"]?.numberText ?? "" }).count, 59)

        let keys: [Item] = (1...5).map { ["pk": .s("p\($0 % 7)"), "sk": .n(String($0))] }
        let got = try db.batchGetItem(table: name, keys: keys)
        XCTAssertEqual(got.items.count, 5)
        XCTAssertTrue(got.unprocessedKeys.isEmpty)
    }

    func testMissingTable_isATerminalErrorWithCodeAndHint() throws {
        let db = try Self.dynamo(try MotoEnvironment.endpoint())
        XCTAssertThrowsError(try db.describeTable("no-such-table-for-ferry")) { error in
            guard let e = error as? AWSClientError else { return XCTFail("\(error)") }
            XCTAssertEqual(e.serviceError?.code, "ResourceNotFoundException")
            XCTAssertEqual(e.serviceError?.status, 400)
            XCTAssertEqual(e.retryClass, .terminal)
            let text = "\(e)"
            XCTAssertTrue(text.contains("DescribeTable"), text)
            XCTAssertTrue(text.contains("check the table"), text)
        }
    }

    func testUnreachableEndpoint_saysWhichHostAndOperation() throws {
        let db = DynamoDBClient(endpoint: Endpoint(url: "http://127.0.0.1:1", region: "us-east-1", service: .dynamodb, isCustom: true),
                                credentials: Self.credentials, transport: CurlHTTPClient(),
                                retry: RetryPolicy(maxAttempts: 2, backoff: Backoff(transientBase: 0.001)))
        XCTAssertThrowsError(try db.listTables()) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("ListTables to 127.0.0.1:1 failed"), text)
            XCTAssertEqual((error as? AWSClientError)?.code, "http.connect")
        }
    }
}
