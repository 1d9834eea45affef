import AWSClient
import DynamoModel
import Foundation
@testable import Replication
import StreamStandIn
import XCTest

/// The replicator end to end against the stand-in: shards, splits,
/// expired iterators, restarts.
final class StreamReplicatorTests: XCTestCase {
    /// The last record's sequence number of every shard, read with a client of the test's own.
    private func lastSequences(_ h: StreamHarness) throws -> [String: SequenceNumber] {
        var last: [String: SequenceNumber] = [:]
        for shard in try h.standIn.shards(table: StreamHarness.source) {
            if let record = try h.records(ofShard: shard.id).last {
                last[shard.id] = SequenceNumber(record.sequenceNumber)
            }
        }
        return last
    }

    private func totalRecords(_ h: StreamHarness) throws -> Int {
        try h.standIn.shards(table: StreamHarness.source).reduce(0) { $0 + $1.recordCount }
    }

    // MARK: - 1. Several shards

    func testSeveralShards_mixedInsertModifyRemove_targetEqualsSource_statusListsEveryShard_checkpointHasEachShardsLastSequence() throws {
        let h = try StreamHarness(shards: 4)
        defer { h.close() }
        // Before the start: inserts, then modifies and removes of some keys.
        try h.put((0..<40).map { streamItem(spreadKey($0), v: 1, ["tag": .s("first")]) })
        try h.put(stride(from: 0, to: 40, by: 3).map { streamItem(spreadKey($0), v: 2) })
        try h.delete(stride(from: 0, to: 40, by: 5).map { spreadKey($0) })

        let run = try h.start()
        // While it runs: new keys, more modifies (with nested values), removes, re-inserts.
        try h.put((40..<60).map { streamItem(spreadKey($0), v: 1) })
        try h.put(stride(from: 1, to: 60, by: 4).map {
            streamItem(spreadKey($0), v: 3, ["list": .l([.n("1.50"), .s("x")]), "map": .m(["n": .null, "b": .bool(true)])])
        })
        try h.delete(stride(from: 2, to: 60, by: 7).map { spreadKey($0) })
        try h.put([streamItem(spreadKey(0), v: 9), streamItem(spreadKey(5), v: 9)])  // removed before, inserted again

        try h.waitForTargetToEqualSource()
        XCTAssertEqual(run.stop(), .stopped)
        XCTAssertTrue(try h.comparison().isIdentical, "the target changed after convergence: \(h.differences)")

        let shards = try h.standIn.shards(table: StreamHarness.source)
        XCTAssertEqual(shards.count, 4)
        XCTAssertTrue(shards.allSatisfy { $0.recordCount > 0 }, "every shard should hold records for this test to mean something")
        let total = try totalRecords(h)
        let last = try lastSequences(h)

        let status = try XCTUnwrap(h.status())
        XCTAssertEqual(status.phase, .stopped)
        XCTAssertEqual(status.streamArn, h.streamArn)
        XCTAssertEqual(status.targetTable, StreamHarness.target)
        XCTAssertEqual(Set(status.shards.map(\.id)), Set(shards.map(\.id)))
        XCTAssertEqual(status.totals.read, total, "every record read exactly once")
        XCTAssertEqual(status.shards.reduce(0) { $0 + $1.recordsApplied }, total)
        XCTAssertTrue(status.gaps.isEmpty)
        XCTAssertNil(status.lastError)
        for shard in status.shards {
            XCTAssertEqual(shard.lastSequenceApplied, last[shard.id]?.digits, "status of \(shard.id)")
            XCTAssertEqual(shard.state, .reading, "open shards stay in reading")
        }

        let checkpoint = try XCTUnwrap(h.checkpoint())
        XCTAssertEqual(checkpoint.streamArn, h.streamArn)
        XCTAssertNotNil(checkpoint.updatedAt)
        XCTAssertEqual(Set(checkpoint.shards.keys), Set(shards.map(\.id)))
        for shard in shards {
            XCTAssertEqual(checkpoint.shards[shard.id]?.sequence, last[shard.id], "checkpoint of \(shard.id)")
            XCTAssertEqual(checkpoint.shards[shard.id]?.finished, false)
        }
        let totals = run.counters.snapshot
        XCTAssertEqual(totals.deadLettered, 0)
        XCTAssertGreaterThan(totals.deleted, 0)
        XCTAssertGreaterThan(totals.put, 0)
        // Records are counted by event, whatever write they became.
        var events: [String: Int] = [:]
        for shard in shards { for record in try h.records(ofShard: shard.id) { events[record.eventName, default: 0] += 1 } }
        XCTAssertEqual(totals.inserted, events["INSERT"] ?? -1)
        XCTAssertEqual(totals.modified, events["MODIFY"] ?? -1)
        XCTAssertEqual(totals.removed, events["REMOVE"] ?? -1)
        XCTAssertEqual(totals.outOfOrder, 0)
    }

    // MARK: - 2. Splits

    func testSplitShards_keepEveryKeysVersionsInOrder_childrenAreReadOnlyAfterTheirParentIsDrained() throws {
        let h = try StreamHarness(shards: 1)
        defer { h.close() }
        // A slow GetRecords: a child read at the same time as its parent
        // would interleave its later versions with the parent's earlier ones.
        h.standIn.inject(StandInFault(.delay(seconds: 0.005), on: [.getRecords]))
        let keys = (0..<8).map { spreadKey($0) }
        let parent = try h.standIn.openShardIDs(table: StreamHarness.source)[0]
        for v in 1...5 { try h.put(keys.map { streamItem($0, v: v) }) }
        let children = try h.standIn.splitShard(parent)
        for v in 6...10 { try h.put(keys.map { streamItem($0, v: v) }) }

        let run = try h.start()
        try h.waitForTargetToEqualSource()

        // Split a child while it is being read; its keys' later versions go to grandchildren.
        let byChild = try Set(keys.map { try h.standIn.shardID(forKey: ["pk": .s($0)], table: StreamHarness.source) })
        XCTAssertEqual(byChild, Set(children), "the keys should land in both children")
        let busiest = try Dictionary(grouping: keys) { try h.standIn.shardID(forKey: ["pk": .s($0)], table: StreamHarness.source) }
            .max { $0.value.count < $1.value.count }!.key
        XCTAssertTrue(children.contains(busiest))
        let grandchildren = try h.standIn.splitShard(busiest)
        for v in 11...15 { try h.put(keys.map { streamItem($0, v: v) }) }
        try h.waitForTargetToEqualSource()
        XCTAssertEqual(run.stop(), .stopped)

        for key in keys {
            let versions = try h.targetVersions(of: key)
            XCTAssertEqual(versions.last, 15, "last version of \(key)")
            XCTAssertTrue(zip(versions, versions.dropFirst()).allSatisfy { $0 < $1 },
                          "versions of \(key) applied out of order or twice: \(versions)")
        }
        let shards = try h.standIn.shards(table: StreamHarness.source)
        XCTAssertEqual(shards.count, 1 + children.count + grandchildren.count)
        XCTAssertEqual(run.counters.snapshot.read, shards.reduce(0) { $0 + $1.recordCount })

        let checkpoint = try XCTUnwrap(h.checkpoint())
        XCTAssertEqual(checkpoint.shards[parent]?.finished, true, "the drained and applied parent is finished")
        XCTAssertEqual(checkpoint.shards[busiest]?.finished, true, "the split child is finished")
        for id in grandchildren {
            XCTAssertEqual(checkpoint.shards[id]?.finished, false)
        }
        let status = try XCTUnwrap(h.status())
        let byID = Dictionary(uniqueKeysWithValues: status.shards.map { ($0.id, $0) })
        XCTAssertEqual(byID[parent]?.state, .finished)
        for id in grandchildren { XCTAssertEqual(byID[id]?.parent, busiest) }
    }

    /// Lineage alone: the children's records must not reach the target
    /// before every record of the parent has been handed to the lanes.
    func testChildShard_isNotReadWhileItsParentStillHasRecords() throws {
        let h = try StreamHarness(shards: 1)
        defer { h.close() }
        let parent = try h.standIn.openShardIDs(table: StreamHarness.source)[0]
        try h.put((0..<30).map { streamItem("p\($0)", v: 1) })
        try h.standIn.splitShard(parent)
        try h.put((0..<30).map { streamItem("c\($0)", v: 1) })
        // Parent pages are slow; the children would finish long before the parent if read together.
        h.standIn.inject(StandInFault(.delay(seconds: 0.01), on: [.getRecords]))

        let run = try h.start(h.options { $0.getRecordsLimit = 3 }, pool: h.poolOptions { $0.lanes = 1; $0.batchSize = 1 })
        try h.waitForTargetToEqualSource()
        XCTAssertEqual(run.stop(), .stopped)

        // One lane, one write per batch: the target's log is the order the readers queued records.
        let log = try h.standIn.appliedWrites(table: StreamHarness.target)
        let lastParent = try XCTUnwrap(log.lastIndex { $0.key["pk"]?.stringValue?.hasPrefix("p") == true })
        let firstChild = try XCTUnwrap(log.firstIndex { $0.key["pk"]?.stringValue?.hasPrefix("c") == true })
        XCTAssertLessThan(lastParent, firstChild, "a child record was applied before the parent was drained")
        XCTAssertEqual(log.count, 60)
    }

    // MARK: - 3. Expired iterators

    func testExpiredIterators_midRun_areRenewedAfterTheLastRecordRead_nothingLostNothingReadTwice() throws {
        let h = try StreamHarness(shards: 2)
        defer { h.close() }
        let slow = h.standIn.inject(StandInFault(.delay(seconds: 0.03), on: [.getRecords]))
        try h.put((0..<120).map { streamItem(spreadKey($0 % 40), v: $0 / 40 + 1) })
        let run = try h.start()

        // Mid-backlog: every iterator the readers hold stops working.
        XCTAssertTrue(h.eventually { run.counters.snapshot.read >= 10 })
        XCTAssertLessThan(run.counters.snapshot.read, 120, "the readers should still be in the backlog")
        h.standIn.expireAllIterators()
        let injected = h.standIn.inject(.expiredIterator(times: 4, skipFirst: 3))
        try h.put((0..<40).map { streamItem(spreadKey($0), v: 4) })
        try h.waitForTargetToEqualSource()
        h.standIn.removeFault(slow)

        // Iterators grow old (the stand-in's clock moves past the 15-minute limit).
        h.standIn.advanceClock(by: 16 * 60)
        try h.put((0..<40).map { streamItem(spreadKey($0), v: 5) })
        try h.delete([spreadKey(1), spreadKey(2)])
        try h.waitForTargetToEqualSource()
        XCTAssertEqual(run.stop(), .stopped)

        XCTAssertEqual(h.standIn.firedCount(injected), 4)
        let shards = try h.standIn.shards(table: StreamHarness.source)
        let total = shards.reduce(0) { $0 + $1.recordCount }
        XCTAssertEqual(run.counters.snapshot.read, total, "a renewed iterator must start after the last record read")
        XCTAssertGreaterThanOrEqual(h.standIn.requestCount(.getShardIterator), shards.count + 6,
                                    "iterators were renewed")
        for k in 0..<40 where k != 1 && k != 2 {
            let versions = try h.targetVersions(of: spreadKey(k))
            XCTAssertEqual(versions.last, 5)
            XCTAssertTrue(zip(versions, versions.dropFirst()).allSatisfy { $0 < $1 }, "k\(k): \(versions)")
        }
        XCTAssertEqual(try h.status()?.lastError, nil)
    }

    /// A shard read from LATEST has no sequence number to renew its
    /// iterator after until its first record: renewing at LATEST again
    /// would skip what was written in between.
    func testExpiredIterator_beforeTheFirstRecordOfAShardStartedAtLatest_losesNothing() throws {
        let h = try StreamHarness(shards: 1)
        defer { h.close() }
        try h.put((0..<5).map { streamItem("old\($0)", v: 1) })   // before the start: not replicated
        let run = try h.start(h.options { $0.startPosition = .latest })
        XCTAssertTrue(h.eventually { h.standIn.requestCount(.getRecords) >= 3 }, "the reader polls the idle shard")
        // The reader's next poll finds its iterator expired; the records are already there.
        h.standIn.inject(.expiredIterator(times: 1))
        try h.put((0..<10).map { streamItem("new\($0)", v: 1) })
        XCTAssertTrue(h.eventually {
            (0..<10).allSatisfy { (try? h.standIn.item(table: StreamHarness.target, key: ["pk": .s("new\($0)")])) != nil }
        }, "records written while the iterator was renewed were skipped")
        XCTAssertEqual(run.stop(), .stopped)
    }

    /// After an outage longer than the stream's retention the checkpoint
    /// cannot be trusted: that is a gap before anything is read.
    func testCheckpointOlderThanTheRetention_isAGap_unlessSkipTrimmedGapsIsSet() throws {
        let h = try StreamHarness(shards: 1)
        defer { h.close() }
        let shard = try h.standIn.openShardIDs(table: StreamHarness.source)[0]
        try h.put((0..<5).map { streamItem("k\($0)", v: 1) })
        let first = try h.start()
        try h.waitForTargetToEqualSource()
        XCTAssertEqual(first.stop(), .stopped)
        let saved = try XCTUnwrap(h.checkpoint()?.shards[shard]?.sequence)
        try h.put((5..<10).map { streamItem("k\($0)", v: 1) })
        // The checkpoint stores whole seconds: a retention above one second
        // tells a renewed checkpoint from an old one.
        usleep(1_300_000)

        let second = try h.start(h.options { $0.retention = 1.2 })
        let outcome = try XCTUnwrap(second.outcome(within: 10))
        guard case .gap = outcome else { return XCTFail("expected a gap, got \(outcome)") }
        XCTAssertEqual(try h.status()?.gaps.map(\.afterSequence), [saved.digits])
        XCTAssertEqual(second.counters.snapshot.read, 0)
        XCTAssertEqual(try h.checkpoint()?.shards[shard]?.sequence, saved)

        // Started again as it was (a service manager's restart): still a gap.
        let again = try h.start(h.options { $0.retention = 1.2 })
        let outcomeAgain = try XCTUnwrap(again.outcome(within: 10))
        guard case .gap = outcomeAgain else { return XCTFail("the restart hid the gap: \(outcomeAgain)") }

        let third = try h.start(h.options { $0.retention = 1.2; $0.skipTrimmedGaps = true })
        try h.waitForTargetToEqualSource()
        XCTAssertEqual(third.stop(), .stopped)
        XCTAssertEqual(try h.status()?.gaps.map(\.skipped), [true])
        XCTAssertEqual(third.counters.snapshot.read, 5, "it goes on from the checkpoint")
    }

    // MARK: - 7. Restart

    func testRestart_fromTheCheckpoint_readsOnlyNewRecords_andReappliesNothing() throws {
        let h = try StreamHarness(shards: 2)
        defer { h.close() }
        try h.put((0..<30).map { streamItem(spreadKey($0), v: 1) })
        try h.put((0..<10).map { streamItem(spreadKey($0), v: 2) })
        try h.delete([spreadKey(25), spreadKey(26), spreadKey(27)])
        XCTAssertTrue(try h.standIn.shards(table: StreamHarness.source).allSatisfy { $0.recordCount > 0 })
        let first = try h.start()
        try h.waitForTargetToEqualSource()
        XCTAssertEqual(first.stop(), .stopped)
        let recordsBefore = try totalRecords(h)
        XCTAssertEqual(first.counters.snapshot.read, recordsBefore)
        let saved = try XCTUnwrap(h.checkpoint())
        XCTAssertEqual(saved.shards.compactMapValues(\.sequence), try lastSequences(h))
        let writesBefore = try h.standIn.appliedWrites(table: StreamHarness.target).count

        // While Ferry is down.
        try h.put((30..<40).map { streamItem(spreadKey($0), v: 1) })
        try h.put((0..<5).map { streamItem(spreadKey($0), v: 3) })
        try h.delete([spreadKey(10), spreadKey(11)])
        let newRecords = try totalRecords(h) - recordsBefore
        XCTAssertEqual(newRecords, 17)

        let second = try h.start()
        try h.waitForTargetToEqualSource()
        XCTAssertEqual(second.stop(), .stopped)

        XCTAssertEqual(second.counters.snapshot.read, newRecords, "only records after the checkpoint are read")
        let later = try h.standIn.appliedWrites(table: StreamHarness.target).dropFirst(writesBefore)
        let touched = Set((30..<40).map { spreadKey($0) } + (0..<5).map { spreadKey($0) } + [spreadKey(10), spreadKey(11)])
        let rewritten = Set(later.compactMap { $0.key["pk"]?.stringValue })
        XCTAssertTrue(rewritten.isSubset(of: touched), "re-applied: \(rewritten.subtracting(touched).sorted())")
        XCTAssertLessThanOrEqual(later.count, newRecords)
        for k in 12..<25 {
            XCTAssertEqual(try h.targetVersions(of: spreadKey(k)), [1], "k\(k) written again after the restart")
        }
        let after = try XCTUnwrap(h.checkpoint())
        XCTAssertEqual(after.shards.compactMapValues(\.sequence), try lastSequences(h))
        for (id, sequence) in saved.shards.compactMapValues(\.sequence) {
            XCTAssertGreaterThanOrEqual(try XCTUnwrap(after.shards[id]?.sequence), sequence)
        }
    }

    func testRestart_inTheMiddleOfAParent_resumesItFromTheCheckpoint_beforeItsChildren() throws {
        let h = try StreamHarness(shards: 1)
        defer { h.close() }
        let keys = (0..<8).map { spreadKey($0) }
        let parent = try h.standIn.openShardIDs(table: StreamHarness.source)[0]
        for v in 1...5 { try h.put(keys.map { streamItem($0, v: v) }) }
        let children = try h.standIn.splitShard(parent)
        for v in 6...10 { try h.put(keys.map { streamItem($0, v: v) }) }
        let total = try totalRecords(h)

        let slow = h.standIn.inject(StandInFault(.delay(seconds: 0.02), on: [.getRecords]))
        let first = try h.start(h.options { $0.getRecordsLimit = 3 })
        XCTAssertTrue(h.eventually { first.counters.snapshot.read >= 9 })
        XCTAssertEqual(first.stop(), .stopped)
        let readFirst = first.counters.snapshot.read
        XCTAssertLessThan(readFirst, 40, "stopped while the parent was still being read")
        let saved = try XCTUnwrap(h.checkpoint())
        XCTAssertEqual(saved.shards[parent]?.finished, false)
        XCTAssertNotNil(saved.shards[parent]?.sequence)
        for child in children { XCTAssertNil(saved.shards[child], "a child was started before its parent was drained") }

        h.standIn.removeFault(slow)
        let second = try h.start()
        try h.waitForTargetToEqualSource()
        XCTAssertEqual(second.stop(), .stopped)
        XCTAssertEqual(readFirst + second.counters.snapshot.read, total, "each record read once over both runs")
        for key in keys {
            let versions = try h.targetVersions(of: key)
            XCTAssertEqual(versions.last, 10)
            XCTAssertTrue(zip(versions, versions.dropFirst()).allSatisfy { $0 < $1 }, "\(key): \(versions)")
        }
        XCTAssertEqual(try h.checkpoint()?.shards[parent]?.finished, true)
    }
}
