import AWSClient
import DynamoModel
import StreamStandIn
import XCTest

/// The stand-in's Alternator streams mode (``StandInAlternatorStreams``):
/// many shards, a put as REMOVE then MODIFY, late publication, TTL
/// expiries as plain REMOVEs, creation times that are write times.
final class AlternatorStreamsTests: XCTestCase {
    /// A fixed clock (advanced by the tests), a quarter second past a whole second.
    private static let start = 1_700_000_000.25

    private func alternator(shards: Int = 1, pairs: Bool = true, delay: Double = 0) -> StandInConfiguration {
        var configuration = StandInConfiguration.alternator
        configuration.alternatorStreams = StandInAlternatorStreams(
            shardsPerStream: shards, putAsRemoveThenModify: pairs, publishDelay: delay)
        configuration.clock = { Self.start }
        return configuration
    }

    private func records(_ h: StandInHarness, table: String, key: Item) throws -> [StreamRecord] {
        let arn = try h.standIn.streamArn(table: table)
        return try h.readShard(arn, try h.standIn.shardID(forKey: key, table: table)).records
    }

    func testAlternatorStreams_haveTheConfiguredShardCount_whateverTheTableAsks() throws {
        let h = try StandInHarness(alternator(shards: 128))
        defer { h.standIn.stop() }
        let arn = try XCTUnwrap(h.standIn.createTable(StandInTableSpec("t", shardCount: 1)))
        let description = try h.streams.describeStreamFully(arn: arn)
        XCTAssertEqual(description.shards.count, 128)
        XCTAssertEqual(try h.standIn.openShardIDs(table: "t").count, 128)
        XCTAssertEqual(StandInConfiguration.alternator.alternatorStreams?.shardsPerStream, 64)
        XCTAssertEqual(StandInConfiguration.alternator.alternatorStreams?.publishDelay, 10)
        XCTAssertNil(StandInConfiguration().alternatorStreams, "DynamoDB's streams by default")
    }

    func testPuts_withRemoveThenModify_appearAsARemoveDirectlyFollowedByAModifyOfTheSameKey() throws {
        let h = try StandInHarness(alternator(shards: 8))
        defer { h.standIn.stop() }
        try h.standIn.createTable(StandInTableSpec("t", stream: .newAndOldImages))
        let a = item("a"), b = item("b-other")
        try h.dynamo.putItem(table: "t", item: item("a", ["v": .n("1")]))        // creates
        try h.dynamo.putItem(table: "t", item: item("a", ["v": .n("2")]))        // replaces
        try h.dynamo.putItem(table: "t", item: item("a", ["v": .n("2")]))        // changes nothing
        _ = try h.dynamo.batchWriteItem(table: "t", writes: [
            .put(item: Array(#"{"pk":{"S":"a"},"v":{"N":"3"}}"#.utf8)[...]),
            .put(item: Array(#"{"pk":{"S":"b-other"},"v":{"N":"1"}}"#.utf8)[...]),
        ])
        try h.dynamo.updateItem(table: "t", key: a, updateExpression: "SET v = :v", names: [:], values: [":v": .n("4")])
        try h.dynamo.deleteItem(table: "t", key: a)

        let records = try records(h, table: "t", key: a).filter { (try? $0.keys.readItem()) == a }
        XCTAssertEqual(records.map(\.eventName),
                       ["REMOVE", "MODIFY", "REMOVE", "MODIFY", "REMOVE", "MODIFY", "REMOVE", "MODIFY", "MODIFY", "REMOVE"])
        let all = try self.records(h, table: "t", key: a)
        // Each pair is adjacent in its shard, even when the batch wrote another key.
        let putModifies = all.indices.filter { all[$0].eventName == "MODIFY" && all[$0].oldImage == nil }
        XCTAssertGreaterThanOrEqual(putModifies.count, 4, "a's four puts")
        for index in putModifies {
            let previous = try XCTUnwrap(index > 0 ? all[index - 1] : nil)
            XCTAssertEqual(previous.eventName, "REMOVE")
            XCTAssertEqual(try previous.keys.readItem(), try all[index].keys.readItem())
            XCTAssertTrue(numericallyLess(previous.sequenceNumber, all[index].sequenceNumber))
        }
        // The REMOVE of a put carries what was there (nothing the first time); its MODIFY the new image only.
        XCTAssertNil(records[0].oldImage)
        XCTAssertEqual(try records[2].oldImage?.readItem()["v"], .n("1"))
        XCTAssertEqual(try records[3].newImage?.readItem()["v"], .n("2"))
        XCTAssertNil(records[3].oldImage)
        XCTAssertEqual(try records[7].newImage?.readItem()["v"], .n("3"))
        // UpdateItem stays one MODIFY with both images; DeleteItem one REMOVE.
        XCTAssertEqual(try records[8].oldImage?.readItem()["v"], .n("3"))
        XCTAssertEqual(try records[8].newImage?.readItem()["v"], .n("4"))
        XCTAssertNil(records[9].newImage)

        let other = try self.records(h, table: "t", key: b).filter { (try? $0.keys.readItem()) == b }
        XCTAssertEqual(other.map(\.eventName), ["REMOVE", "MODIFY"])
        // The table itself is written once per put.
        XCTAssertEqual(try h.standIn.appliedWrites(table: "t", key: a).map(\.kind),
                       [.put, .put, .put, .put, .put, .delete])
    }

    func testPuts_withIncreasedCompatibility_areOneInsertOrModify() throws {
        let h = try StandInHarness(alternator(shards: 4, pairs: false))
        defer { h.standIn.stop() }
        try h.standIn.createTable(StandInTableSpec("t"))
        try h.dynamo.putItem(table: "t", item: item("a", ["v": .n("1")]))
        try h.dynamo.putItem(table: "t", item: item("a", ["v": .n("2")]))
        try h.standIn.put(table: "t", items: [item("a", ["v": .n("3")])])
        XCTAssertEqual(try records(h, table: "t", key: item("a")).map(\.eventName), ["INSERT", "MODIFY", "MODIFY"])
    }

    func testTheTestAPIsPut_isShownAsPutItemIs() throws {
        let h = try StandInHarness(alternator(shards: 2))
        defer { h.standIn.stop() }
        try h.standIn.createTable(StandInTableSpec("t"))
        try h.standIn.put(table: "t", items: [item("a", ["v": .n("1")]), item("a", ["v": .n("2")])])
        XCTAssertEqual(try records(h, table: "t", key: item("a")).map(\.eventName), ["REMOVE", "MODIFY", "REMOVE", "MODIFY"])
    }

    func testRecords_arePublishedOnlyOnceTheDelayHasPassed_andCarryTheirWriteTimeInWholeSeconds() throws {
        let h = try StandInHarness(alternator(shards: 1, delay: 10))
        defer { h.standIn.stop() }
        let arn = try XCTUnwrap(h.standIn.createTable(StandInTableSpec("t")))
        let shard = try h.standIn.openShardIDs(table: "t")[0]
        var iterator = try h.streams.getShardIterator(arn: arn, shardId: shard, position: .trimHorizon)
        try h.dynamo.putItem(table: "t", item: item("a", ["v": .n("1")]))
        h.standIn.advanceClock(by: 5)
        try h.dynamo.putItem(table: "t", item: item("b", ["v": .n("1")]))

        h.standIn.advanceClock(by: 4.5)                      // 9.5 s after the first put
        var page = try h.streams.getRecords(iterator: iterator)
        XCTAssertTrue(page.records.isEmpty, "nothing is published before its time window has passed")
        iterator = try XCTUnwrap(page.nextShardIterator, "an open shard goes on")

        h.standIn.advanceClock(by: 0.5)                      // 10 s after the first put, 5 s after the second
        page = try h.streams.getRecords(iterator: iterator)
        XCTAssertEqual(page.records.map(\.eventName), ["REMOVE", "MODIFY"])
        XCTAssertEqual(try page.records.map { try $0.keys.readItem() }, [item("a"), item("a")])
        // The write time, rounded down to the second: not the publication time.
        XCTAssertEqual(page.records.map(\.approximateCreationDateTime), [1_700_000_000, 1_700_000_000])
        iterator = try XCTUnwrap(page.nextShardIterator)

        page = try h.streams.getRecords(iterator: iterator)
        XCTAssertTrue(page.records.isEmpty, "the second put is 5 s old")
        h.standIn.advanceClock(by: 5)
        page = try h.streams.getRecords(iterator: try XCTUnwrap(page.nextShardIterator))
        XCTAssertEqual(page.records.map(\.approximateCreationDateTime), [1_700_000_005, 1_700_000_005])
        XCTAssertEqual(try page.records.map { try $0.keys.readItem() }, [item("b"), item("b")])
    }

    func testAPageLimit_canSplitAPairBetweenPages() throws {
        let h = try StandInHarness(alternator(shards: 1))
        defer { h.standIn.stop() }
        let arn = try XCTUnwrap(h.standIn.createTable(StandInTableSpec("t")))
        try h.standIn.put(table: "t", items: [item("a", ["v": .n("1")]), item("b", ["v": .n("1")])])
        let pages = try h.readShard(arn, try h.standIn.openShardIDs(table: "t")[0], limit: 3).records
        XCTAssertEqual(pages.map(\.eventName), ["REMOVE", "MODIFY", "REMOVE", "MODIFY"])
        let first = try h.streams.getRecords(
            iterator: try h.streams.getShardIterator(arn: arn, shardId: try h.standIn.openShardIDs(table: "t")[0],
                                                     position: .trimHorizon), limit: 3)
        XCTAssertEqual(first.records.map(\.eventName), ["REMOVE", "MODIFY", "REMOVE"], "the page ends between b's pair")
    }

    func testTTLExpiries_arePlainRemoves_withoutUserIdentity() throws {
        let h = try StandInHarness(alternator(shards: 2))
        defer { h.standIn.stop() }
        try h.standIn.createTable(StandInTableSpec("t"))
        try h.standIn.put(table: "t", items: [item("a")])
        try h.standIn.expireItem(table: "t", key: item("a"))
        let records = try records(h, table: "t", key: item("a"))
        XCTAssertEqual(records.map(\.eventName), ["REMOVE", "MODIFY", "REMOVE"])
        XCTAssertNil(records[2].userIdentityType)
        XCTAssertFalse(records[2].isTTLExpiry)
        XCTAssertEqual(try h.standIn.appliedWrites(table: "t").map(\.kind), [.put, .ttlDelete])
    }
}
