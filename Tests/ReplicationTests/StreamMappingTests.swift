import AWSClient
import DynamoModel
import Foundation
@testable import Replication
import StreamStandIn
import XCTest

/// How stream records become target writes, end to end: TTL policy,
/// MODIFY as UpdateItem, KEYS_ONLY streams.
final class StreamMappingTests: XCTestCase {
    // MARK: - 8. TTL deletes

    private func expireAndDelete(_ h: StreamHarness, run: ReplicatorRun) throws {
        try h.put((0..<10).map { streamItem("k\($0)", v: 1) })
        try h.waitForTargetToEqualSource()
        try h.standIn.expireItem(table: StreamHarness.source, key: ["pk": .s("k1")])
        try h.standIn.expireItem(table: StreamHarness.source, key: ["pk": .s("k2")])
        try h.delete(["k3"])                                  // a user's delete
        try h.put([streamItem("k4", v: 2)])
        let shard = try h.standIn.openShardIDs(table: StreamHarness.source)[0]
        let last = try XCTUnwrap(h.records(ofShard: shard).last.flatMap { SequenceNumber($0.sequenceNumber) })
        XCTAssertTrue(h.eventually { run.replicator.statusReport().shards.first?.lastSequenceApplied == last.digits })
    }

    func testTTLExpiries_withPolicySkip_stayInTheTarget_whileUserDeletesAreReplicated() throws {
        let h = try StreamHarness(shards: 1)
        defer { h.close() }
        let run = try h.start(h.options { $0.mapping.ttlDeletes = .skip })
        try expireAndDelete(h, run: run)
        XCTAssertEqual(run.stop(), .stopped)

        let comparison = try h.comparison()
        XCTAssertEqual(comparison.onlyInSecond.compactMap { $0["pk"]?.stringValue }.sorted(), ["k1", "k2"],
                       "expired items are left to the target's own TTL")
        XCTAssertTrue(comparison.onlyInFirst.isEmpty)
        XCTAssertTrue(comparison.different.isEmpty)
        XCTAssertNil(try h.standIn.item(table: StreamHarness.target, key: ["pk": .s("k3")]))
        XCTAssertEqual(try h.targetVersions(of: "k4"), [1, 2])
        XCTAssertEqual(try h.targetVersions(of: "k1"), [1])
        let totals = run.counters.snapshot
        XCTAssertEqual(totals.skippedTTL, 2)
        XCTAssertEqual(totals.deleted, 1)
    }

    func testTTLExpiries_withPolicyReplicate_deleteFromTheTarget() throws {
        let h = try StreamHarness(shards: 1)
        defer { h.close() }
        let run = try h.start(h.options { $0.mapping.ttlDeletes = .replicate })
        try expireAndDelete(h, run: run)
        XCTAssertEqual(run.stop(), .stopped)

        XCTAssertTrue(try h.comparison().isIdentical, "\(h.differences)")
        XCTAssertEqual(try h.targetVersions(of: "k1"), [1, -1])
        let totals = run.counters.snapshot
        XCTAssertEqual(totals.skippedTTL, 0)
        XCTAssertEqual(totals.deleted, 3)
    }

    // MARK: - 9. MODIFY as UpdateItem

    func testModifyAsUpdate_setsChangedAttributes_removesDroppedOnes_andKeepsAttributesOnlyTheTargetHas() throws {
        let h = try StreamHarness(shards: 1)
        defer { h.close() }
        let target = StreamHarness.target
        try h.standIn.put(table: target, items: [
            streamItem("k1", v: 1, ["b": .s("x"), "extra": .s("keep")]),
            streamItem("k2", v: 1, ["extra": .s("keep2")]),
        ])
        let shard = try h.standIn.openShardIDs(table: StreamHarness.source)[0]
        // Records appended to the stream directly: the target was filled by a backfill, say.
        let sequences = try h.standIn.append(shard: shard, [
            .modify(old: streamItem("k1", v: 1, ["b": .s("x")]),
                    new: streamItem("k1", v: 2, ["c": .ss(["p", "q"])])),
            .modify(old: streamItem("k2", v: 1), new: streamItem("k2", v: 1)),       // changes nothing
            .insert(streamItem("k3", v: 1, ["a": .s("a")])),
            .modify(old: streamItem("k3", v: 1, ["a": .s("a")]), new: streamItem("k3", v: 2)),
            .modify(old: streamItem("k4", v: 1, ["gone": .s("x")]), new: streamItem("k4", v: 5, ["m": .m(["x": .n("1")])])),
            .remove(streamItem("k2", v: 1)),
            .insert(streamItem("k2", v: 7)),
        ])
        let run = try h.start(h.options { $0.mapping.modifyAs = .update })
        let expected: [String: Item] = [
            "k1": streamItem("k1", v: 2, ["c": .ss(["p", "q"]), "extra": .s("keep")]),
            "k2": streamItem("k2", v: 7),
            "k3": streamItem("k3", v: 2),
            "k4": streamItem("k4", v: 5, ["m": .m(["x": .n("1")])]),
        ]
        func matches() throws -> Bool {
            let snapshot = try h.standIn.snapshot(table: target)
            return snapshot.count == expected.count && expected.allSatisfy { pk, item in
                snapshot.item(key: ["pk": .s(pk)]).map { $0.semanticallyEquals(item) } ?? false
            }
        }
        XCTAssertTrue(try h.eventually {
            try matches() && run.replicator.statusReport().shards.first?.lastSequenceApplied == sequences.last
        }, "\((try? h.standIn.snapshot(table: target).sortedItems) ?? [])")
        XCTAssertEqual(run.stop(), .stopped)

        let k1 = try h.standIn.appliedWrites(table: target, key: ["pk": .s("k1")])
        XCTAssertEqual(k1.map(\.operation), [nil, .updateItem])
        let k3 = try h.standIn.appliedWrites(table: target, key: ["pk": .s("k3")])
        XCTAssertEqual(k3.map(\.operation), [.batchWriteItem, .updateItem], "the INSERT is a put, sent before the update")
        let k2 = try h.standIn.appliedWrites(table: target, key: ["pk": .s("k2")])
        XCTAssertEqual(k2.first?.operation, nil)
        XCTAssertFalse(k2.contains { $0.operation == .updateItem }, "the MODIFY that changed nothing wrote nothing")
        let totals = run.counters.snapshot
        XCTAssertEqual(totals.updated, 3)
        XCTAssertEqual(totals.read, 7)
        XCTAssertEqual(try h.checkpoint()?.shards[shard]?.sequence, SequenceNumber(sequences.last!))
    }

    // MARK: - 10. KEYS_ONLY

    func testKeysOnlyStream_readsEachChangedItemFromTheSource_andReplicatesPutsAndDeletes() throws {
        let h = try StreamHarness(shards: 2, view: .keysOnly)
        defer { h.close() }
        try h.put((0..<30).map { streamItem(spreadKey($0), v: 1, ["payload": .s(String(repeating: "x", count: $0))]) })
        try h.put((0..<30).filter { $0 % 3 == 0 }.map { streamItem(spreadKey($0), v: 2) })
        try h.delete((0..<30).filter { $0 % 5 == 0 }.map { spreadKey($0) })
        let run = try h.start()
        try h.waitForTargetToEqualSource()
        try h.put((30..<40).map { streamItem(spreadKey($0), v: 1) })
        try h.put([streamItem(spreadKey(1), v: 3, ["b": .bool(true)])])
        try h.delete([spreadKey(2), spreadKey(31)])
        try h.waitForTargetToEqualSource()
        XCTAssertEqual(run.stop(), .stopped)

        let records = try h.standIn.shards(table: StreamHarness.source).reduce(0) { $0 + $1.recordCount }
        XCTAssertEqual(run.counters.snapshot.read, records)
        let removes = 6 + 2
        XCTAssertEqual(h.standIn.requestCount(.getItem), records - removes, "one GetItem per INSERT and MODIFY record")
        XCTAssertTrue(try h.comparison().isIdentical)
        XCTAssertGreaterThan(run.counters.snapshot.deleted, 0)
    }

    func testKeysOnlyStream_whenReadingTheSourceIsThrottled_retriesInsteadOfFailing() throws {
        let h = try StreamHarness(shards: 1, view: .keysOnly)
        defer { h.close() }
        // More throttling in a row than the client retries.
        let throttled = h.standIn.inject(.throttling(on: [.getItem], times: 6, skipFirst: 3))
        try h.put((0..<20).map { streamItem("k\($0)", v: 1) })
        let run = try h.start()
        try h.waitForTargetToEqualSource()
        XCTAssertEqual(run.stop(), .stopped)
        XCTAssertEqual(h.standIn.firedCount(throttled), 6)
        XCTAssertGreaterThan(h.clientRetries.snapshot.gaveUp[.attemptsExhausted] ?? 0, 0,
                             "the client gave up at least once; the reader went on")
    }
}
