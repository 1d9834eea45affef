import DynamoModel
import Foundation
@testable import Replication
import StreamStandIn
import XCTest

/// The replicator reading a stream shaped like Alternator's, where a put
/// shows as a REMOVE directly followed by a MODIFY of the same key: the
/// REMOVE is folded into the put (``RemovePairing``), so the target never
/// loses an item that was only overwritten.
final class AlternatorPairingTests: XCTestCase {
    private func alternator(shards: Int, delay: Double = 0.5) -> StandInConfiguration {
        var configuration = StandInConfiguration.alternator
        configuration.alternatorStreams = StandInAlternatorStreams(
            shardsPerStream: shards, putAsRemoveThenModify: true, publishDelay: delay)
        return configuration
    }

    /// The kinds of the target's applied writes of `pk`.
    private func targetWrites(_ h: StreamHarness, _ pk: String) throws -> [StandInAppliedWrite.Kind] {
        try h.standIn.appliedWrites(table: StreamHarness.target, key: ["pk": .s(pk)]).map(\.kind)
    }

    private func lastApplied(_ run: ReplicatorRun) -> String? {
        run.replicator.statusReport().shards.first?.lastSequenceApplied
    }

    func testItemsOverwrittenManyTimes_areNeverDeletedInTheTarget_andTheTargetEndsEqualToTheSource() throws {
        let h = try StreamHarness(configuration: alternator(shards: 16))
        defer { h.close() }
        XCTAssertEqual(try h.standIn.openShardIDs(table: StreamHarness.source).count, 16)
        let run = try h.start()                                  // 7 records a page: most pages split a pair
        let keys = (0..<20).map(spreadKey)
        for round in 1...10 {
            try h.put(keys.map { streamItem($0, v: round) })
        }
        try h.waitForTargetToEqualSource(timeout: 30)
        XCTAssertTrue(h.eventually { run.counters.snapshot.pairedRemoves == 200 }, "\(run.counters.snapshot)")
        XCTAssertEqual(run.stop(), .stopped)

        for key in keys {
            let versions = try h.targetVersions(of: key)
            XCTAssertFalse(versions.contains(-1), "\(key) was deleted in the target: \(versions)")
            XCTAssertEqual(versions.last, 10)
            XCTAssertEqual(versions, versions.sorted(), "\(key)'s puts arrived out of order: \(versions)")
        }
        let totals = run.counters.snapshot
        XCTAssertEqual(totals.removed, 200, "every put was read as a REMOVE and a MODIFY")
        XCTAssertEqual(totals.modified, 200)
        XCTAssertEqual(totals.pairedRemoves, 200)
        XCTAssertEqual(totals.deleted, 0)
        XCTAssertEqual(try h.status()?.totals.pairedRemoves, 200, "the status file shows the count")
    }

    func testAPageBoundaryBetweenRemoveAndModify_stillWritesNoDelete() throws {
        for limit in [1, 3] {
            let h = try StreamHarness(configuration: alternator(shards: 1))
            defer { h.close() }
            let run = try h.start(h.options { $0.getRecordsLimit = limit })
            let keys = (0..<5).map { "k\($0)" }
            for round in 1...3 {
                try h.put(keys.map { streamItem($0, v: round) })
            }
            try h.waitForTargetToEqualSource(timeout: 20)
            XCTAssertTrue(h.eventually { run.counters.snapshot.pairedRemoves == 15 },
                          "limit \(limit): \(run.counters.snapshot)")
            XCTAssertEqual(run.stop(), .stopped)
            for key in keys {
                XCTAssertEqual(try targetWrites(h, key).filter { $0 != .put }, [], "limit \(limit), \(key)")
            }
            XCTAssertEqual(run.counters.snapshot.deleted, 0, "limit \(limit)")
        }
    }

    func testARealDelete_followedByNothing_orByAnotherKeysPut_isApplied() throws {
        let h = try StreamHarness(configuration: alternator(shards: 1))
        defer { h.close() }
        let run = try h.start(h.options { $0.getRecordsLimit = 1 })
        try h.put([streamItem("a", v: 1), streamItem("b", v: 1)])
        try h.waitForTargetToEqualSource()

        // The REMOVE is the shard's last record: it ends its page, waits one
        // poll for a put, and is applied when the next page is empty.
        try h.delete(["a"])
        let shard = try h.standIn.openShardIDs(table: StreamHarness.source)[0]
        let removal = try XCTUnwrap(h.eventually { try h.records(ofShard: shard).count == 5 } ? h.records(ofShard: shard).last : nil)
        XCTAssertEqual(removal.eventName, "REMOVE")
        XCTAssertTrue(h.eventually { self.lastApplied(run) == removal.sequenceNumber },
                      "the checkpoint reaches the REMOVE once it is applied")
        XCTAssertNil(try h.standIn.item(table: StreamHarness.target, key: ["pk": .s("a")]))
        XCTAssertEqual(try targetWrites(h, "a"), [.put, .delete])

        // A real delete followed by a put of another key: REMOVE b, REMOVE c, MODIFY c.
        try h.delete(["b"])
        try h.put([streamItem("c", v: 1)])
        try h.waitForTargetToEqualSource()
        XCTAssertEqual(run.stop(), .stopped)
        XCTAssertEqual(try targetWrites(h, "b"), [.put, .delete])
        XCTAssertEqual(try targetWrites(h, "c"), [.put])
        let totals = run.counters.snapshot
        XCTAssertEqual(totals.deleted, 2)
        XCTAssertEqual(totals.pairedRemoves, 3, "the REMOVEs of the puts of a, b and c")
    }

    /// The records of a put whose MODIFY carries an old image, appended to
    /// the stream directly, with the target holding the item already.
    private func removeThenModifyWithOldImage(modifyAs: MappingOptions.ModifyAs) throws -> (StreamHarness, ReplicatorRun) {
        let h = try StreamHarness(configuration: alternator(shards: 1, delay: 0))
        let old = streamItem("a", v: 1, ["kept": .s("same")])
        let new = streamItem("a", v: 2, ["kept": .s("same")])
        try h.standIn.put(table: StreamHarness.target, items: [old])
        let shard = try h.standIn.openShardIDs(table: StreamHarness.source)[0]
        let sequences = try h.standIn.append(shard: shard, [.remove(old), .modify(old: old, new: new)])
        let run = try h.start(h.options { $0.mapping.modifyAs = modifyAs })
        XCTAssertTrue(h.eventually { self.lastApplied(run) == sequences.last }, "both records applied")
        XCTAssertEqual(run.stop(), .stopped)
        return (h, run)
    }

    func testWithModifyAsUpdate_theRemoveIsApplied_becauseAnUpdateDoesNotRecreateTheItem() throws {
        let (h, run) = try removeThenModifyWithOldImage(modifyAs: .update)
        defer { h.close() }
        XCTAssertEqual(try targetWrites(h, "a"), [.put, .delete, .put], "the prefill, the REMOVE, the update")
        XCTAssertEqual(run.counters.snapshot.pairedRemoves, 0)
        XCTAssertEqual(run.counters.snapshot.updated, 1)
        // As the stream says: the update sets only what changed on an item the REMOVE took away.
        XCTAssertEqual(try h.standIn.item(table: StreamHarness.target, key: ["pk": .s("a")]), streamItem("a", v: 2))
    }

    func testWithModifyAsPut_theSameRecordsAreOnePut() throws {
        let (h, run) = try removeThenModifyWithOldImage(modifyAs: .put)
        defer { h.close() }
        XCTAssertEqual(try targetWrites(h, "a"), [.put, .put])
        XCTAssertEqual(run.counters.snapshot.pairedRemoves, 1)
        XCTAssertEqual(try h.standIn.item(table: StreamHarness.target, key: ["pk": .s("a")]),
                       streamItem("a", v: 2, ["kept": .s("same")]))
    }

    func testAHeldRemove_keepsTheCheckpointBelowIt_untilItsModifyIsRead() throws {
        let delay = 5.0
        let h = try StreamHarness(configuration: alternator(shards: 1, delay: 0))
        defer { h.close() }
        try h.put([streamItem("a", v: 1)])                       // REMOVE, MODIFY
        let shard = try h.standIn.openShardIDs(table: StreamHarness.source)[0]
        let records = try h.records(ofShard: shard)
        XCTAssertEqual(records.map(\.eventName), ["REMOVE", "MODIFY"])
        // One record a page: the first GetRecords returns the REMOVE, the second (late) the MODIFY.
        let late = h.standIn.inject(StandInFault(.delay(seconds: delay), on: [.getRecords], trigger: .times(1), skipFirst: 1))
        let started = monotonicSeconds()
        let run = try h.start(h.options { $0.getRecordsLimit = 1 })
        XCTAssertTrue(h.eventually { h.standIn.firedCount(late) == 1 })
        // The second request was sent after `started`, so its answer cannot have come before `started + delay`.
        let before = monotonicSeconds()
        XCTAssertEqual(run.counters.snapshot.read, 1, "only the REMOVE has been read")
        XCTAssertNil(lastApplied(run), "the held REMOVE is not acknowledged")
        XCTAssertEqual(try targetWrites(h, "a"), [], "nor written")
        // The checks above saw the state before the MODIFY could arrive.
        XCTAssertLessThan(before - started, delay - 0.5, "the delayed page came back before the checks ran")
        try h.waitForTargetToEqualSource(timeout: 15)
        XCTAssertTrue(h.eventually { self.lastApplied(run) == records[1].sequenceNumber })
        XCTAssertEqual(run.stop(), .stopped)
        XCTAssertEqual(try targetWrites(h, "a"), [.put])
        XCTAssertEqual(run.counters.snapshot.pairedRemoves, 1)
    }
}
