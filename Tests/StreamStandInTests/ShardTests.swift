import AWSClient
import DynamoModel
import StreamStandIn
import XCTest

final class ShardTests: XCTestCase {
    func testSplit_linksChildrenToParent_andKeysContinueInAChild() throws {
        let h = try StandInHarness()
        defer { h.standIn.stop() }
        let arn = try XCTUnwrap(h.standIn.createTable(StandInTableSpec("t")))
        let parent = try h.standIn.openShardIDs(table: "t")[0]
        let keys = (0..<40).map { "key\($0)" }
        for key in keys { try h.dynamo.putItem(table: "t", item: item(key, ["v": .n("1")])) }

        let children = try h.standIn.splitShard(parent)
        XCTAssertEqual(children.count, 2)
        for key in keys { try h.dynamo.putItem(table: "t", item: item(key, ["v": .n("2")])) }

        let description = try h.streams.describeStreamFully(arn: arn)
        XCTAssertEqual(description.shards.map(\.shardId), [parent] + children)
        let closed = try XCTUnwrap(description.shards.first { $0.shardId == parent })
        XCTAssertNil(closed.parentShardId)
        let ending = try XCTUnwrap(closed.endingSequenceNumber)
        for child in description.shards.dropFirst() {
            XCTAssertEqual(child.parentShardId, parent)
            XCTAssertNil(child.endingSequenceNumber)
            XCTAssertTrue(numericallyLess(ending, try XCTUnwrap(child.startingSequenceNumber)))
        }

        let (parentRecords, parentFinished) = try h.readShard(arn, parent, limit: 7)
        XCTAssertTrue(parentFinished, "a closed shard read to its end gives a null NextShardIterator")
        XCTAssertEqual(parentRecords.count, 40)
        XCTAssertEqual(parentRecords.last?.sequenceNumber, ending)

        var modifiedKeys: [String] = []
        for child in children {
            let records = try h.readShard(arn, child).records
            XCTAssertTrue(records.allSatisfy { $0.eventName == "MODIFY" })
            for record in records {
                let key = try XCTUnwrap(record.keys.readItem()["pk"]?.stringValue)
                modifiedKeys.append(key)
                XCTAssertEqual(try h.standIn.shardID(forKey: item(key), table: "t"), child)
            }
            XCTAssertFalse(records.isEmpty, "40 keys spread over both halves of the hash range")
        }
        XCTAssertEqual(modifiedKeys.sorted(), keys.sorted())
        XCTAssertEqual(h.standIn.requestCount(.putItem), 80)
    }

    func testDescribeStream_pagesWithLastEvaluatedShardId() throws {
        var configuration = StandInConfiguration()
        configuration.describeStreamPageSize = 3
        let h = try StandInHarness(configuration)
        defer { h.standIn.stop() }
        let arn = try XCTUnwrap(h.standIn.createTable(StandInTableSpec("t", shardCount: 4)))
        let first = try h.standIn.openShardIDs(table: "t")
        _ = try h.standIn.splitShard(first[0], into: 3)
        _ = try h.standIn.addShards(table: "t", count: 1)
        let all = try h.standIn.shards(table: "t").map(\.id)
        XCTAssertEqual(all.count, 8)

        let page1 = try h.streams.describeStream(arn: arn)
        XCTAssertEqual(page1.shards.map(\.shardId), Array(all[0..<3]))
        XCTAssertEqual(page1.lastEvaluatedShardId, all[2])
        let page2 = try h.streams.describeStream(arn: arn, exclusiveStartShardId: all[2], limit: 2)
        XCTAssertEqual(page2.shards.map(\.shardId), Array(all[3..<5]), "a smaller Limit wins")
        XCTAssertEqual(try h.streams.describeStreamFully(arn: arn).shards.map(\.shardId), all)
        let last = try h.streams.describeStream(arn: arn, exclusiveStartShardId: all[5])
        XCTAssertEqual(last.shards.map(\.shardId), Array(all[6...]))
        XCTAssertNil(last.lastEvaluatedShardId)
        XCTAssertEqual(h.standIn.requestCount(.describeStream), 2 + 3 + 1)
    }

    func testWritesSpreadOverInitialShards_andRollOverKeepsOneChild() throws {
        let h = try StandInHarness()
        defer { h.standIn.stop() }
        let arn = try XCTUnwrap(h.standIn.createTable(StandInTableSpec("t", partitionKeyType: .number, shardCount: 3)))
        try h.standIn.put(table: "t", items: (0..<90).map { ["pk": .n(String($0))] })
        let shards = try h.standIn.shards(table: "t")
        XCTAssertEqual(shards.map(\.recordCount).reduce(0, +), 90)
        XCTAssertTrue(shards.allSatisfy { $0.recordCount > 0 })

        let child = try h.standIn.splitShard(shards[1].id, into: 1)
        XCTAssertEqual(child.count, 1)
        XCTAssertThrowsError(try h.standIn.splitShard(shards[1].id)) { error in
            XCTAssertEqual((error as? StandInError)?.code, .shardClosed)
        }
        XCTAssertThrowsError(try h.standIn.splitShard(shards[0].id, into: 0)) { error in
            XCTAssertEqual((error as? StandInError)?.code, .invalidArgument)
        }
        let described = try h.streams.describeStreamFully(arn: arn).shards
        XCTAssertEqual(described.last?.parentShardId, shards[1].id)
    }
}
