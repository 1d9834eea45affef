import AWSClient
import DynamoModel
import StreamStandIn
import XCTest

final class StreamRecordTests: XCTestCase {
    func testWrites_produceInsertModifyRemoveWithImages() throws {
        let h = try StandInHarness()
        defer { h.standIn.stop() }
        let arn = try XCTUnwrap(h.standIn.createTable(StandInTableSpec("t", sortKey: "sk", sortKeyType: .number)))

        try h.dynamo.putItem(table: "t", item: ["pk": .s("a"), "sk": .n("1"), "v": .n("1")])
        try h.dynamo.putItem(table: "t", item: ["pk": .s("a"), "sk": .n("1"), "v": .n("2")])
        try h.dynamo.updateItem(table: "t", key: ["pk": .s("a"), "sk": .n("1")],
                                updateExpression: "SET #v = :v, extra = :e", names: ["#v": "v"],
                                values: [":v": .n("3"), ":e": .s("x")])
        try h.dynamo.updateItem(table: "t", key: ["pk": .s("a"), "sk": .n("1")],
                                updateExpression: "REMOVE extra", names: [:], values: [:])
        try h.dynamo.deleteItem(table: "t", key: ["pk": .s("a"), "sk": .n("1")])
        try h.dynamo.deleteItem(table: "t", key: ["pk": .s("never"), "sk": .n("1")])

        let description = try h.streams.describeStreamFully(arn: arn)
        XCTAssertEqual(description.streamViewType, .newAndOldImages)
        XCTAssertEqual(description.keySchema.map(\.attributeName), ["pk", "sk"])
        XCTAssertEqual(try h.streams.listStreams(table: "t").map(\.streamArn), [arn])
        XCTAssertEqual(try h.dynamo.describeTable("t").latestStreamArn, arn)

        let (records, finished) = try h.readShard(arn, try XCTUnwrap(description.shards.first?.shardId))
        XCTAssertFalse(finished, "an open shard keeps handing out iterators")
        XCTAssertEqual(records.map(\.eventName), ["INSERT", "MODIFY", "MODIFY", "MODIFY", "REMOVE"],
                       "no record for deleting an absent item")
        XCTAssertEqual(try records[0].keys.readItem(), ["pk": .s("a"), "sk": .n("1")])
        XCTAssertEqual(try records[1].oldImage?.readItem()["v"], .n("1"))
        XCTAssertEqual(try records[1].newImage?.readItem()["v"], .n("2"))
        XCTAssertEqual(try records[2].newImage?.readItem(), ["pk": .s("a"), "sk": .n("1"), "v": .n("3"), "extra": .s("x")])
        XCTAssertNil(try records[3].newImage?.readItem()["extra"])
        XCTAssertNil(records[4].newImage)
        XCTAssertEqual(try records[4].oldImage?.readItem()["v"], .n("3"))
        XCTAssertFalse(records[4].isTTLExpiry)
        for record in records {
            XCTAssertGreaterThan(record.sizeBytes ?? 0, 0)
            XCTAssertNotNil(record.approximateCreationDateTime)
            XCTAssertEqual(record.eventID?.count, 32)
        }
        XCTAssertEqual(Set(records.compactMap(\.eventID)).count, records.count)
    }

    func testUnchangedPut_writesNoRecord_andTTLDeleteIsMarkedAsService() throws {
        let h = try StandInHarness()
        defer { h.standIn.stop() }
        let arn = try XCTUnwrap(h.standIn.createTable(StandInTableSpec("t", stream: .keysOnly)))
        try h.dynamo.putItem(table: "t", item: item("a", ["n": .n("1.50")]))
        try h.dynamo.putItem(table: "t", item: item("a", ["n": .n("1.5")]))  // the same number to DynamoDB
        try h.standIn.expireItem(table: "t", key: item("a"))

        let shard = try h.standIn.openShardIDs(table: "t")[0]
        let records = try h.readShard(arn, shard).records
        XCTAssertEqual(records.map(\.eventName), ["INSERT", "REMOVE"])
        XCTAssertNil(records[0].newImage, "KEYS_ONLY carries no images")
        XCTAssertTrue(records[1].isTTLExpiry)
        XCTAssertEqual(try h.standIn.appliedWrites(table: "t").map(\.kind), [.put, .put, .ttlDelete])
    }

    func testNewImageView_carriesOnlyNewImages() throws {
        let h = try StandInHarness()
        defer { h.standIn.stop() }
        let arn = try XCTUnwrap(h.standIn.createTable(StandInTableSpec("t", stream: .newImage)))
        try h.standIn.put(table: "t", items: [item("a", ["x": .s("1")]), item("a", ["x": .s("2")])])
        try h.standIn.delete(table: "t", keys: [item("a")])
        let records = try h.readShard(arn, try h.standIn.openShardIDs(table: "t")[0]).records
        XCTAssertEqual(records.map(\.eventName), ["INSERT", "MODIFY", "REMOVE"])
        XCTAssertEqual(records.map { $0.newImage != nil }, [true, true, false])
        XCTAssertEqual(records.map { $0.oldImage != nil }, [false, false, false])
    }

    func testSequenceNumbers_crossADigitBoundary_andCompareNumerically() throws {
        let h = try StandInHarness()
        defer { h.standIn.stop() }
        let arn = try XCTUnwrap(h.standIn.createTable(StandInTableSpec("t")))
        try h.standIn.put(table: "t", items: (0..<60).map { item("k\($0)") })

        let records = try h.readShard(arn, try h.standIn.openShardIDs(table: "t")[0]).records
        let sequences = records.map(\.sequenceNumber)
        XCTAssertEqual(sequences.count, 60)
        XCTAssertTrue(sequences.allSatisfy { $0.count >= 21 && $0.count <= 40 && $0.allSatisfy(\.isNumber) })
        XCTAssertEqual(Set(sequences.map(\.count)), [21, 22], "the numbers grow a digit within the first 60 records")
        XCTAssertTrue(zip(sequences, sequences.dropFirst()).allSatisfy { numericallyLess($0, $1) })
        XCTAssertNotEqual(sequences, sequences.sorted(), "sorted as text they come out of order")

        // The stand-in itself compares by value: resuming after the last
        // 21-digit number returns the 22-digit ones.
        let boundary = try XCTUnwrap(sequences.lastIndex { $0.count == 21 })
        let iterator = try h.streams.getShardIterator(
            arn: arn, shardId: try h.standIn.openShardIDs(table: "t")[0],
            position: .afterSequenceNumber(sequences[boundary]))
        XCTAssertEqual(try h.streams.getRecords(iterator: iterator).records.map(\.sequenceNumber),
                       Array(sequences[(boundary + 1)...]))
        let at = try h.streams.getShardIterator(
            arn: arn, shardId: try h.standIn.openShardIDs(table: "t")[0], position: .atSequenceNumber(sequences[boundary]))
        XCTAssertEqual(try h.streams.getRecords(iterator: at, limit: 1).records.first?.sequenceNumber, sequences[boundary])
    }

    func testDirectAppend_andSyntheticRecords_honorLimitsAndTheOneMegabyteCap() throws {
        let h = try StandInHarness(.benchmarkSource)
        defer { h.standIn.stop() }
        let arn = try XCTUnwrap(h.standIn.createTable(StandInTableSpec("t", sortKey: "sk", sortKeyType: .number)))
        let extra = try h.standIn.addShards(table: "t", count: 1)[0]
        try h.standIn.append(shard: extra, [
            .insert(["pk": .s("z"), "sk": .n("1"), "a": .s("1")]),
            .modify(old: ["pk": .s("z"), "sk": .n("1"), "a": .s("1")], new: ["pk": .s("z"), "sk": .n("1"), "a": .s("2")]),
            .ttlRemove(["pk": .s("z"), "sk": .n("1"), "a": .s("2")]),
        ])
        let range = try h.standIn.appendSynthetic(
            shard: extra, count: 2_500, itemBytes: 1_000, pattern: StandInSyntheticPattern(keyCount: 100, removeEvery: 7))
        XCTAssertEqual(range.count, 2_500)

        var iterator: String? = try h.streams.getShardIterator(arn: arn, shardId: extra, position: .trimHorizon)
        var pages: [[StreamRecord]] = []
        while let current = iterator {
            let page = try h.streams.getRecords(iterator: current, limit: 1000)
            if page.records.isEmpty { break }
            pages.append(page.records)
            iterator = page.nextShardIterator
        }
        let records = pages.flatMap { $0 }
        XCTAssertEqual(records.count, 2_503)
        XCTAssertTrue(pages.allSatisfy { $0.count < 1000 }, "about 1,300-byte records: 1 MB holds fewer than 1,000")
        XCTAssertEqual(records.prefix(3).map(\.eventName), ["INSERT", "MODIFY", "REMOVE"])
        XCTAssertTrue(records[2].isTTLExpiry)
        let synthetic = records.dropFirst(3)
        XCTAssertEqual(synthetic.first?.sequenceNumber, range.first)
        XCTAssertEqual(synthetic.last?.sequenceNumber, range.last)
        XCTAssertTrue(synthetic.prefix(100).allSatisfy { $0.eventName == "INSERT" }, "each key appears first as an INSERT")
        XCTAssertTrue(synthetic.contains { $0.eventName == "MODIFY" && $0.oldImage != nil })
        XCTAssertTrue(synthetic.contains { $0.eventName == "REMOVE" })
        let size = try XCTUnwrap(synthetic.first { $0.eventName == "INSERT" }?.newImage).rawRange.count
        XCTAssertEqual(size, 1_000, accuracy: 10)
        // Writes to the table go to the table's own shard, not the added one.
        XCTAssertNotEqual(try h.standIn.shardID(forKey: ["pk": .s("z"), "sk": .n("1")], table: "t"), extra)
    }
}
