import AWSClient
import DynamoModel
import StreamStandIn
import XCTest

final class FaultTests: XCTestCase {
    func testThrottling_isRetriedByTheClientPolicy() throws {
        let h = try StandInHarness()
        defer { h.standIn.stop() }
        let arn = try XCTUnwrap(h.standIn.createTable(StandInTableSpec("t")))
        try h.standIn.put(table: "t", items: [item("a")])
        let iterator = try h.streams.getShardIterator(arn: arn, shardId: try h.standIn.openShardIDs(table: "t")[0],
                                                      position: .trimHorizon)
        let getRecordsFault = h.standIn.inject(.throttling(on: [.getRecords], times: 2))
        let writeFault = h.standIn.inject(.throttling(on: [.batchWriteItem], code: "ThrottlingException", times: 1))

        XCTAssertEqual(try h.streams.getRecords(iterator: iterator).records.count, 1)
        XCTAssertEqual(h.standIn.requestCount(.getRecords), 3)
        let unprocessed = try h.dynamo.batchWriteItem(table: "t", writes: [.put(item: Array(#"{"pk":{"S":"b"}}"#.utf8)[...])])
        XCTAssertTrue(unprocessed.isEmpty)
        XCTAssertEqual(h.standIn.requestCount(.batchWriteItem), 2)
        XCTAssertEqual(h.standIn.firedCount(getRecordsFault), 2)
        XCTAssertEqual(h.standIn.firedCount(writeFault), 1)
        XCTAssertEqual(h.retries.snapshot.throttlingRetries, 3)
        XCTAssertNotNil(try h.standIn.item(table: "t", key: item("b")))
    }

    func testThrottlingAnswer_hasDynamoDBsWireFormat() throws {
        let h = try StandInHarness(maxAttempts: 1)
        defer { h.standIn.stop() }
        try h.standIn.createTable(StandInTableSpec("t"))
        h.standIn.inject(.throttling(times: 1))
        do {
            _ = try h.dynamo.describeTable("t")
            XCTFail("expected throttling")
        } catch {
            let service = try XCTUnwrap(error.serviceError)
            XCTAssertEqual(service.status, 400)
            XCTAssertEqual(service.code, "ProvisionedThroughputExceededException")
            let body = try JSONValue.parse(service.rawBody)
            XCTAssertEqual(body["__type"]?.stringValue, "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException")
            XCTAssertEqual(error.retryClass, .throttling)
        }
        XCTAssertEqual(try h.dynamo.describeTable("t").tableName, "t")
    }

    func testServerErrorsResetsAndClosedConnections_areRetriedAsTransient() throws {
        let h = try StandInHarness(maxAttempts: 6)
        defer { h.standIn.stop() }
        try h.standIn.createTable(StandInTableSpec("t"))
        h.standIn.inject(.internalError(on: [.putItem], times: 1))
        h.standIn.inject(StandInFault(.resetConnection, on: [.putItem], trigger: .times(1)))
        h.standIn.inject(StandInFault(.closeConnection, on: [.putItem], trigger: .times(1)))
        h.standIn.inject(StandInFault(.delay(seconds: 0.05), on: [.putItem], trigger: .times(1)))

        try h.dynamo.putItem(table: "t", item: item("a"))
        XCTAssertEqual(h.standIn.requestCount(.putItem), 4)
        // libcurl itself resends once when a reused keep-alive connection dies
        // before answering, so the policy may see one failure fewer than the server caused.
        XCTAssertTrue((2...3).contains(h.retries.snapshot.transientRetries), "\(h.retries.snapshot)")
        XCTAssertEqual(try h.standIn.appliedWrites(table: "t", key: item("a")).count, 1)
    }

    func testProbabilisticFaults_replayWithTheSameSeed() throws {
        func run() throws -> [Bool] {
            let h = try StandInHarness(maxAttempts: 1)
            defer { h.standIn.stop() }
            try h.standIn.createTable(StandInTableSpec("t"))
            h.standIn.inject(.internalError(on: [.getItem], probability: 0.5, seed: 42))
            return (0..<20).map { _ in serviceCode { _ = try h.dynamo.getItem(table: "t", key: item("a")) } == nil }
        }
        let first = try run()
        XCTAssertEqual(first, try run())
        XCTAssertTrue(first.contains(true) && first.contains(false))
    }

    func testUnprocessedItems_returnsEveryOtherWriteUnapplied() throws {
        let h = try StandInHarness()
        defer { h.standIn.stop() }
        try h.standIn.createTable(StandInTableSpec("t"))
        let fault = h.standIn.inject(.unprocessedItems(.everyOther, times: 1))
        let items = (0..<6).map { Array(#"{"pk":{"S":"k\#($0)"},"n":{"N":"\#($0)"}}"#.utf8) }
        let left = try h.dynamo.batchWriteItem(table: "t", writes: items.map { .put(item: $0[...]) })
        XCTAssertEqual(left.count, 3)
        let leftItems = try left.map { write -> Item in
            guard case .put(let bytes) = write else { throw StandInError(.invalidItem, "not a put") }
            return try DynamoJSONReader.readItem(Array(bytes))
        }
        XCTAssertEqual(leftItems.compactMap { $0["pk"]?.stringValue }, ["k1", "k3", "k5"])
        XCTAssertEqual(try h.standIn.snapshot(table: "t").sortedItems.compactMap { $0["pk"]?.stringValue }.sorted(),
                       ["k0", "k2", "k4"])
        XCTAssertTrue(try h.dynamo.batchWriteItem(table: "t", writes: left).isEmpty, "the retry is applied")
        XCTAssertEqual(try h.standIn.itemCount(table: "t"), 6)
        XCTAssertEqual(h.standIn.firedCount(fault), 1)
    }

    func testBatchWrite_rejectsDuplicateKeysAndOversizedBatches() throws {
        let h = try StandInHarness()
        defer { h.standIn.stop() }
        try h.standIn.createTable(StandInTableSpec("t", sortKey: "sk", sortKeyType: .number))
        let duplicate: [WriteRequest] = [
            .put(item: Array(#"{"pk":{"S":"a"},"sk":{"N":"1.0"}}"#.utf8)[...]),
            .delete(key: Array(#"{"sk":{"N":"1"},"pk":{"S":"a"}}"#.utf8)[...]),
        ]
        XCTAssertEqual(serviceCode { _ = try h.dynamo.batchWriteItem(table: "t", writes: duplicate) }, "ValidationException")
        let many = (0..<26).map { WriteRequest.put(item: Array(#"{"pk":{"S":"a"},"sk":{"N":"\#($0)"}}"#.utf8)[...]) }
        XCTAssertEqual(serviceCode { _ = try h.dynamo.batchWriteItem(table: "t", writes: many) }, "ValidationException")
        XCTAssertTrue(try h.dynamo.batchWriteItem(table: "t", writes: Array(many.prefix(25))).isEmpty)
        let wrongType = [WriteRequest.put(item: Array(#"{"pk":{"S":"a"},"sk":{"S":"1"}}"#.utf8)[...])]
        XCTAssertEqual(serviceCode { _ = try h.dynamo.batchWriteItem(table: "t", writes: wrongType) }, "ValidationException")
        XCTAssertEqual(try h.standIn.itemCount(table: "t"), 25)
        XCTAssertEqual(h.retries.snapshot.retries, 0)

        var alternator = StandInConfiguration()
        alternator.maxBatchWriteItems = 100
        let wide = try StandInHarness(alternator)
        defer { wide.standIn.stop() }
        try wide.standIn.createTable(StandInTableSpec("t", sortKey: "sk", sortKeyType: .number))
        let hundred = (0..<100).map { WriteRequest.put(item: Array(#"{"pk":{"S":"a"},"sk":{"N":"\#($0)"}}"#.utf8)[...]) }
        XCTAssertTrue(try wide.dynamo.batchWriteItem(table: "t", writes: hundred).isEmpty)
    }

    func testPoisonItems_getATerminalValidationException() throws {
        var configuration = StandInConfiguration()
        configuration.maxItemBytes = 2_000
        let h = try StandInHarness(configuration)
        defer { h.standIn.stop() }
        try h.standIn.createTable(StandInTableSpec("t"))
        h.standIn.inject(.rejectItems(.hasAttribute("poison")))
        let poisoned: [WriteRequest] = [
            .put(item: Array(#"{"pk":{"S":"ok"}}"#.utf8)[...]),
            .put(item: Array(#"{"pk":{"S":"bad"},"poison":{"BOOL":true}}"#.utf8)[...]),
        ]
        XCTAssertEqual(serviceCode { _ = try h.dynamo.batchWriteItem(table: "t", writes: poisoned) }, "ValidationException")
        XCTAssertEqual(serviceCode { try h.dynamo.putItem(table: "t", item: item("bad", ["poison": .null])) }, "ValidationException")
        let big = item("big", ["blob": .s(String(repeating: "x", count: 3_000))])
        XCTAssertEqual(serviceCode { try h.dynamo.putItem(table: "t", item: big) }, "ValidationException")
        XCTAssertEqual(h.retries.snapshot.retries, 0)
        XCTAssertEqual(try h.standIn.itemCount(table: "t"), 0, "a refused batch applies nothing")
        XCTAssertTrue(try h.dynamo.batchWriteItem(table: "t", writes: [poisoned[0]]).isEmpty)
    }
}
