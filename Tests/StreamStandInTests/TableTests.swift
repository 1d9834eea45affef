import AWSClient
import DynamoModel
import StreamStandIn
import XCTest

final class TableTests: XCTestCase {
    func testItemOperations_andTheWriteLog() throws {
        let h = try StandInHarness()
        defer { h.standIn.stop() }
        let created = try h.dynamo.createTable(TableDescription(
            tableName: "t",
            keySchema: [KeySchemaElement(attributeName: "pk", keyType: "HASH"), KeySchemaElement(attributeName: "sk", keyType: "RANGE")],
            attributeDefinitions: [AttributeDefinition(attributeName: "pk", attributeType: "S"),
                                   AttributeDefinition(attributeName: "sk", attributeType: "N")],
            streamEnabled: true, streamViewType: .newAndOldImages))
        XCTAssertEqual(created.primaryKey, KeySchema(partitionKey: "pk", sortKey: "sk"))
        XCTAssertNotNil(created.latestStreamArn)

        let key: Item = ["pk": .s("a"), "sk": .n("1")]
        try h.dynamo.putItem(table: "t", item: key.merging(["m": .m(["x": .l([.n("1"), .b([0, 1])])]), "ss": .ss(["q"])]) { $1 })
        try h.dynamo.updateItem(table: "t", key: key, updateExpression: "SET copy = m, #s = :s REMOVE ss",
                                names: ["#s": "status"], values: [":s": .s("done")])
        let stored = try XCTUnwrap(try h.dynamo.getItem(table: "t", key: key))
        XCTAssertEqual(stored["copy"], stored["m"])
        XCTAssertEqual(stored["status"], .s("done"))
        XCTAssertNil(stored["ss"])
        XCTAssertNil(try h.dynamo.getItem(table: "t", key: ["pk": .s("b"), "sk": .n("1")]))
        XCTAssertEqual(serviceCode {
            try h.dynamo.updateItem(table: "t", key: key, updateExpression: "SET pk = :v", names: [:], values: [":v": .s("z")])
        }, "ValidationException", "key attributes cannot be updated")
        XCTAssertEqual(serviceCode {
            try h.dynamo.updateItem(table: "t", key: key, updateExpression: "SET a = :v", names: [:], values: [":v": .s("z"), ":w": .s("y")])
        }, "ValidationException", "unused values are refused, as DynamoDB does")
        XCTAssertEqual(serviceCode { try h.dynamo.deleteItem(table: "t", key: ["pk": .s("a")]) }, "ValidationException")
        XCTAssertEqual(serviceCode { _ = try h.dynamo.describeTable("missing") }, "ResourceNotFoundException")
        try h.dynamo.deleteItem(table: "t", key: key)

        let log = try h.standIn.appliedWrites(table: "t", key: key)
        XCTAssertEqual(log.map(\.kind), [.put, .put, .delete])
        XCTAssertEqual(log.map(\.operation), [.putItem, .updateItem, .deleteItem])
        XCTAssertEqual(log.map(\.order), log.map(\.order).sorted())
        XCTAssertEqual(log[1].item?["status"], .s("done"))
        XCTAssertEqual(try h.dynamo.describeTable("t").itemCount, 0)
        XCTAssertEqual(try h.dynamo.listTables(), ["t"])
    }

    func testParallelScan_coversEveryItemOnce_acrossPages() throws {
        let h = try StandInHarness()
        defer { h.standIn.stop() }
        try h.standIn.createTable(StandInTableSpec("t", partitionKeyType: .number, stream: nil))
        try h.standIn.put(table: "t", items: (0..<500).map { ["pk": .n(String($0)), "v": .s("x")] })

        var seen: [String] = []
        var pages = 0
        for segment in 0..<4 {
            var start: Item?
            repeat {
                let page = try h.dynamo.scan(table: "t", segment: segment, totalSegments: 4, exclusiveStartKey: start, limit: 37)
                seen += try page.decodedItems().compactMap { $0["pk"]?.numberText }
                XCTAssertLessThanOrEqual(page.items.count, 37)
                start = page.lastEvaluatedKey
                pages += 1
                if pages == 3, let start {
                    // A deleted start key still finds its place.
                    try h.standIn.delete(table: "t", keys: [start])
                    try h.standIn.put(table: "t", items: [start.merging(["v": .s("x")]) { $1 }])
                }
            } while start != nil
        }
        XCTAssertEqual(seen.count, 500)
        XCTAssertEqual(Set(seen).count, 500)
        XCTAssertGreaterThanOrEqual(pages, 4 * 3)

        let batch = try h.dynamo.batchGetItem(table: "t", keys: [["pk": .n("1")], ["pk": .n("2")], ["pk": .n("9999")]])
        XCTAssertEqual(batch.items.compactMap { $0["pk"]?.numberText }.sorted(), ["1", "2"])
        XCTAssertEqual(serviceCode { _ = try h.dynamo.batchGetItem(table: "t", keys: [["pk": .n("1")], ["pk": .n("1.0")]]) },
                       "ValidationException")
    }

    func testCompareTables_reportsMissingExtraAndDifferentItems() throws {
        let h = try StandInHarness()
        defer { h.standIn.stop() }
        try h.standIn.createTable(StandInTableSpec("source"))
        try h.standIn.createTable(StandInTableSpec("replica"))
        try h.standIn.put(table: "source", items: [item("a", ["n": .n("1.50")]), item("b", ["s": .ss(["x", "y"])]), item("c")])
        try h.standIn.put(table: "replica", items: [item("a", ["n": .n("1.5")]), item("b", ["s": .ss(["y", "x"])]), item("c")])
        XCTAssertTrue(try h.standIn.compareTables("source", "replica").isIdentical)

        try h.standIn.put(table: "replica", items: [item("c", ["extra": .bool(true)]), item("d")])
        try h.standIn.delete(table: "replica", keys: [item("b")])
        let comparison = try h.standIn.compareTables("source", "replica")
        XCTAssertEqual(comparison.onlyInFirst, [item("b")])
        XCTAssertEqual(comparison.onlyInSecond, [item("d")])
        XCTAssertEqual(comparison.different.map(\.key), [item("c")])
        XCTAssertEqual(comparison.different.first?.differences.map(\.name), ["extra"])
        XCTAssertEqual("\(comparison)", "1 only in first, 1 only in second, 1 different (attributes: extra)")
    }

    func testSinkMode_countsWritesWithoutStoringThem() throws {
        let h = try StandInHarness(.benchmarkSink)
        defer { h.standIn.stop() }
        try h.standIn.createTable(StandInTableSpec("t", stream: nil))
        let writes = (0..<100).map { WriteRequest.put(item: Array(#"{"pk":{"S":"k\#($0)"},"v":{"N":"1"}}"#.utf8)[...]) }
        XCTAssertTrue(try h.dynamo.batchWriteItem(table: "t", writes: writes).isEmpty)
        XCTAssertTrue(try h.dynamo.batchWriteItem(table: "t", writes: [.delete(key: Array(#"{"pk":{"S":"k1"}}"#.utf8)[...])]).isEmpty)
        let counters = h.standIn.sinkCounters
        XCTAssertEqual(counters.puts, 100)
        XCTAssertEqual(counters.deletes, 1)
        XCTAssertGreaterThan(counters.itemBytes, 100 * 20)
        XCTAssertEqual(try h.standIn.itemCount(table: "t"), 0)
        XCTAssertEqual(serviceCode { _ = try h.dynamo.batchWriteItem(table: "t", writes: [writes[0], writes[0]]) },
                       "ValidationException", "sink mode still checks duplicates")
    }

    func testConcurrentBatchWriters_fromSeveralConnections() throws {
        var configuration = StandInConfiguration()
        configuration.maxBatchWriteItems = 100
        let h = try StandInHarness(configuration)
        defer { h.standIn.stop() }
        try h.standIn.createTable(StandInTableSpec("t", shardCount: 2))
        let clients = 4, batches = 10
        DispatchQueue.concurrentPerform(iterations: clients) { client in
            let http = CurlHTTPClient()
            let dynamo = DynamoDBClient(
                endpoint: Endpoint(url: h.standIn.baseURL, region: "us-east-1", service: .dynamodb, isCustom: true),
                credentials: StaticCredentialProvider(accessKeyId: "a", secretAccessKey: "b"), transport: http)
            for batch in 0..<batches {
                let writes = (0..<100).map { i in
                    WriteRequest.put(item: Array(#"{"pk":{"S":"c\#(client)-\#(batch)-\#(i)"}}"#.utf8)[...])
                }
                do {
                    let left = try dynamo.batchWriteItem(table: "t", writes: writes)
                    XCTAssertTrue(left.isEmpty)
                } catch {
                    XCTFail("\(error)")
                }
            }
        }
        XCTAssertEqual(try h.standIn.itemCount(table: "t"), clients * batches * 100)
        XCTAssertEqual(try h.standIn.shards(table: "t").map(\.recordCount).reduce(0, +), clients * batches * 100)
        XCTAssertGreaterThanOrEqual(h.standIn.loopbackServer.connectionCount, clients)
    }
}
