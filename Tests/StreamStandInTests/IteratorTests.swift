import AWSClient
import DynamoModel
import StreamStandIn
import XCTest

final class IteratorTests: XCTestCase {
    func testIterator_expiresWithAge_onRequest_andByInjection() throws {
        let h = try StandInHarness()
        defer { h.standIn.stop() }
        let arn = try XCTUnwrap(h.standIn.createTable(StandInTableSpec("t")))
        let shard = try h.standIn.openShardIDs(table: "t")[0]
        try h.standIn.put(table: "t", items: [item("a"), item("b")])

        let old = try h.streams.getShardIterator(arn: arn, shardId: shard, position: .trimHorizon)
        h.standIn.advanceClock(by: 14 * 60)
        let page = try h.streams.getRecords(iterator: old, limit: 1)
        XCTAssertEqual(page.records.count, 1, "14 minutes old is still valid")
        h.standIn.advanceClock(by: 2 * 60)
        XCTAssertEqual(serviceCode { _ = try h.streams.getRecords(iterator: old) }, "ExpiredIteratorException")
        let next = try XCTUnwrap(page.nextShardIterator)
        XCTAssertEqual(try h.streams.getRecords(iterator: next).records.count, 1, "the next iterator is 2 minutes old")

        let fresh = try h.streams.getShardIterator(arn: arn, shardId: shard, position: .trimHorizon)
        h.standIn.expireIterator(fresh)
        XCTAssertEqual(serviceCode { _ = try h.streams.getRecords(iterator: fresh) }, "ExpiredIteratorException")

        let another = try h.streams.getShardIterator(arn: arn, shardId: shard, position: .trimHorizon)
        let fault = h.standIn.inject(.expiredIterator(times: 1))
        XCTAssertEqual(serviceCode { _ = try h.streams.getRecords(iterator: another) }, "ExpiredIteratorException")
        XCTAssertEqual(try h.streams.getRecords(iterator: another).records.count, 2)
        XCTAssertEqual(h.standIn.firedCount(fault), 1)

        h.standIn.expireAllIterators()
        XCTAssertEqual(serviceCode { _ = try h.streams.getRecords(iterator: another) }, "ExpiredIteratorException")
        XCTAssertEqual(serviceCode { _ = try h.streams.getRecords(iterator: "garbage") }, "ValidationException")
        XCTAssertEqual(h.retries.snapshot.retries, 0, "iterator errors are terminal")
    }

    func testShortAgeLimit_isConfigurable() throws {
        var configuration = StandInConfiguration()
        configuration.iteratorAgeLimit = 5
        let h = try StandInHarness(configuration)
        defer { h.standIn.stop() }
        let arn = try XCTUnwrap(h.standIn.createTable(StandInTableSpec("t")))
        let iterator = try h.streams.getShardIterator(arn: arn, shardId: try h.standIn.openShardIDs(table: "t")[0],
                                                      position: .latest)
        h.standIn.advanceClock(by: 6)
        XCTAssertEqual(serviceCode { _ = try h.streams.getRecords(iterator: iterator) }, "ExpiredIteratorException")
    }

    func testTrimming_givesTrimmedDataAccess_andRemovesFinishedShards() throws {
        let h = try StandInHarness()
        defer { h.standIn.stop() }
        let arn = try XCTUnwrap(h.standIn.createTable(StandInTableSpec("t")))
        let parent = try h.standIn.openShardIDs(table: "t")[0]
        try h.standIn.put(table: "t", items: (0..<10).map { item("p\($0)") })
        let parentRecords = try h.readShard(arn, parent).records
        h.standIn.advanceClock(by: 3600)
        let stale = try h.streams.getShardIterator(arn: arn, shardId: parent, position: .trimHorizon)
        let child = try h.standIn.splitShard(parent, into: 1)[0]
        try h.standIn.put(table: "t", items: (0..<10).map { item("c\($0)") })
        let childRecords = try h.readShard(arn, child).records

        // Trim the first five child records by sequence number.
        try h.standIn.trim(table: "t", before: childRecords[5].sequenceNumber)
        XCTAssertEqual(try h.streams.describeStreamFully(arn: arn).shards.map(\.shardId), [child],
                       "the closed parent is trimmed entirely and no longer listed")
        XCTAssertEqual(serviceCode { _ = try h.streams.getRecords(iterator: stale) }, "TrimmedDataAccessException")
        XCTAssertEqual(serviceCode {
            _ = try h.streams.getShardIterator(arn: arn, shardId: child, position: .atSequenceNumber(childRecords[2].sequenceNumber))
        }, "TrimmedDataAccessException")
        XCTAssertEqual(serviceCode {
            _ = try h.streams.getShardIterator(arn: arn, shardId: parent, position: .trimHorizon)
        }, "ResourceNotFoundException")
        let after = try h.streams.getShardIterator(arn: arn, shardId: child, position: .afterSequenceNumber(childRecords[4].sequenceNumber))
        XCTAssertEqual(try h.streams.getRecords(iterator: after).records.map(\.sequenceNumber),
                       childRecords[5...].map(\.sequenceNumber), "resuming right after the trim point loses nothing")
        XCTAssertEqual(try h.readShard(arn, child).records.count, 5, "TRIM_HORIZON starts at the oldest record kept")
        XCTAssertEqual(serviceCode {
            _ = try h.streams.getShardIterator(arn: arn, shardId: child, position: .afterSequenceNumber(parentRecords[0].sequenceNumber))
        }, "ValidationException", "a sequence number from before the shard began")

        // Trimming by age: the child records are an hour newer than a 30-minute cutoff.
        try h.standIn.trim(table: "t", olderThan: 1800)
        XCTAssertEqual(try h.readShard(arn, child).records.count, 5)
        try h.standIn.trimAll(table: "t")
        XCTAssertEqual(try h.readShard(arn, child).records.count, 0)
        XCTAssertEqual(try h.standIn.shards(table: "t").map(\.isListed), [false, true])
    }
}
