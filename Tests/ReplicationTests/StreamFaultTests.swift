import AWSClient
import DynamoModel
import Foundation
@testable import Replication
import StreamStandIn
import XCTest

/// The replicator against a misbehaving source and target: trimmed
/// records, throttling, 5xx, dropped connections, refused items.
final class StreamFaultTests: XCTestCase {
    private func keys(in comparison: StandInTableComparison) -> [String] {
        comparison.onlyInFirst.compactMap { $0["pk"]?.stringValue }.sorted()
    }

    // MARK: - 4. Trimmed records

    func testCheckpointPointingIntoTrimmedRecords_endsWithAGap_inTheStatusFile_andAppliesNothingAfterIt() throws {
        let h = try StreamHarness(shards: 1)
        defer { h.close() }
        let shard = try h.standIn.openShardIDs(table: StreamHarness.source)[0]
        try h.put((0..<10).map { streamItem("k\($0)", v: 1) })
        let first = try h.start()
        try h.waitForTargetToEqualSource()
        XCTAssertEqual(first.stop(), .stopped)
        let saved = try XCTUnwrap(h.checkpoint()?.shards[shard]?.sequence)

        // While Ferry is down, ten more records, of which the oldest three age out.
        try h.put((10..<20).map { streamItem("k\($0)", v: 1) })
        let records = try h.records(ofShard: shard)
        XCTAssertEqual(records.count, 20)
        XCTAssertEqual(SequenceNumber(records[9].sequenceNumber), saved)
        try h.standIn.trim(table: StreamHarness.source, before: records[13].sequenceNumber)
        let writesBefore = try h.standIn.appliedWrites(table: StreamHarness.target).count

        let second = try h.start()
        let outcome = try XCTUnwrap(second.outcome(within: 10), "a gap must end the run by itself")
        guard case .gap(let why) = outcome else { return XCTFail("expected a gap, got \(outcome)") }
        XCTAssertTrue(why.contains(shard), why)
        let status = try XCTUnwrap(h.status())
        XCTAssertEqual(status.phase, .failed)
        XCTAssertEqual(status.gaps.count, 1)
        XCTAssertEqual(status.gaps.first?.shard, shard)
        XCTAssertEqual(status.gaps.first?.afterSequence, saved.digits)
        XCTAssertEqual(status.gaps.first?.skipped, false)
        XCTAssertNotNil(status.lastError)
        // Nothing after the gap was applied, and the checkpoint did not move past it.
        XCTAssertEqual(try h.standIn.appliedWrites(table: StreamHarness.target).count, writesBefore)
        XCTAssertEqual(keys(in: try h.comparison()), (10..<20).map { "k\($0)" }.sorted())
        XCTAssertEqual(try h.checkpoint()?.shards[shard]?.sequence, saved)
        XCTAssertEqual(second.counters.snapshot.read, 0)

        // Going on knowingly: the gap is recorded as skipped, the rest applied.
        let third = try h.start(h.options { $0.skipTrimmedGaps = true })
        XCTAssertTrue(try h.eventually { keys(in: try h.comparison()) == ["k10", "k11", "k12"] },
                      "after skipping, every record still held is applied: \(h.differences)")
        XCTAssertEqual(third.stop(), .stopped)
        let skipped = try XCTUnwrap(h.status())
        XCTAssertEqual(skipped.phase, .stopped)
        XCTAssertEqual(skipped.gaps.count, 1)
        XCTAssertEqual(skipped.gaps.first?.afterSequence, saved.digits)
        XCTAssertEqual(skipped.gaps.first?.skipped, true)
        XCTAssertEqual(try h.checkpoint()?.shards[shard]?.sequence, SequenceNumber(records[19].sequenceNumber))
        XCTAssertEqual(third.counters.snapshot.read, 7)
    }

    /// The reader is held back (the target is throttled, the lanes are
    /// full) while records it has not read yet are trimmed.
    private func trimAheadOfTheReader(skip: Bool) throws -> (StreamHarness, ReplicatorRun, [StreamRecord]) {
        let h = try StreamHarness(shards: 1)
        let shard = try h.standIn.openShardIDs(table: StreamHarness.source)[0]
        try h.put((0..<20).map { streamItem("k\($0)", v: 1) })
        let records = try h.records(ofShard: shard)
        let blocked = h.standIn.inject(StandInFault(.throttle(code: "ThrottlingException"), on: [.batchWriteItem]))
        let run = try h.start(h.options { $0.skipTrimmedGaps = skip },
                              pool: h.poolOptions { $0.lanes = 1; $0.batchSize = 1; $0.laneCapacity = 1 })
        // The first page (7 records) is read, and the reader waits on the full lane.
        XCTAssertTrue(h.eventually { h.standIn.firedCount(blocked) >= 5 && run.counters.snapshot.read == 7 })
        usleep(100_000)
        XCTAssertEqual(run.counters.snapshot.read, 7, "the reader should be waiting on the lane")
        try h.standIn.trim(table: StreamHarness.source, before: records[12].sequenceNumber)
        h.standIn.removeFault(blocked)
        return (h, run, records)
    }

    func testRecordsTrimmedBeforeTheReaderReachesThem_endTheRunWithAGap_andNothingAfterItIsApplied() throws {
        let (h, run, records) = try trimAheadOfTheReader(skip: false)
        defer { h.close() }
        let outcome = try XCTUnwrap(run.outcome(within: 10))
        guard case .gap = outcome else { return XCTFail("expected a gap, got \(outcome)") }
        let status = try XCTUnwrap(h.status())
        XCTAssertEqual(status.gaps.count, 1)
        XCTAssertEqual(status.gaps.first?.afterSequence, SequenceNumber(records[6].sequenceNumber)?.digits)
        XCTAssertEqual(status.gaps.first?.skipped, false)
        // What was read before the gap is applied; nothing after it.
        XCTAssertEqual(keys(in: try h.comparison()), (7..<20).map { "k\($0)" }.sorted())
        let shard = try h.standIn.openShardIDs(table: StreamHarness.source)[0]
        XCTAssertEqual(try h.checkpoint()?.shards[shard]?.sequence, SequenceNumber(records[6].sequenceNumber))
    }

    func testRecordsTrimmedBeforeTheReaderReachesThem_withSkipTrimmedGaps_areSkippedAsRecorded_andTheRestApplied() throws {
        let (h, run, records) = try trimAheadOfTheReader(skip: true)
        defer { h.close() }
        XCTAssertTrue(try h.eventually { keys(in: try h.comparison()) == (7..<12).map { "k\($0)" }.sorted() },
                      "\(h.differences)")
        XCTAssertEqual(run.stop(), .stopped)
        let status = try XCTUnwrap(h.status())
        XCTAssertEqual(status.gaps.count, 1)
        XCTAssertEqual(status.gaps.first?.afterSequence, SequenceNumber(records[6].sequenceNumber)?.digits)
        XCTAssertEqual(status.gaps.first?.skipped, true)
        XCTAssertEqual(run.counters.snapshot.read, 15)
        let shard = try h.standIn.openShardIDs(table: StreamHarness.source)[0]
        XCTAssertEqual(try h.checkpoint()?.shards[shard]?.sequence, SequenceNumber(records[19].sequenceNumber))
    }

    /// A shard the checkpoint has not finished is gone from the stream (it
    /// was closed and trimmed away while Ferry was down).
    func testUnfinishedShardGoneFromTheStream_isAGap_andItsChildrenAreNotRead() throws {
        let h = try StreamHarness(shards: 1)
        defer { h.close() }
        let parent = try h.standIn.openShardIDs(table: StreamHarness.source)[0]
        try h.put((0..<5).map { streamItem("k\($0)", v: 1) })
        let first = try h.start()
        try h.waitForTargetToEqualSource()
        XCTAssertEqual(first.stop(), .stopped)

        try h.put((5..<10).map { streamItem("k\($0)", v: 1) })
        let children = try h.standIn.splitShard(parent)
        try h.put((10..<20).map { streamItem("k\($0)", v: 1) })
        // Every record of the parent ages out; the children keep theirs.
        let firstChild = try XCTUnwrap(h.standIn.shards(table: StreamHarness.source).first { $0.id == children[0] })
        try h.standIn.trim(table: StreamHarness.source, before: firstChild.startingSequenceNumber)
        let shards = try h.standIn.shards(table: StreamHarness.source)
        XCTAssertFalse(try XCTUnwrap(shards.first { $0.id == parent }).isListed)
        XCTAssertEqual(shards.filter { children.contains($0.id) }.reduce(0) { $0 + $1.recordCount }, 10)

        let second = try h.start()
        let outcome = try XCTUnwrap(second.outcome(within: 10))
        guard case .gap(let why) = outcome else { return XCTFail("expected a gap, got \(outcome)") }
        XCTAssertTrue(why.contains(parent), why)
        XCTAssertEqual(try h.status()?.gaps.map(\.shard), [parent])
        XCTAssertEqual(keys(in: try h.comparison()), (5..<20).map { "k\($0)" }.sorted(),
                       "nothing of the children may be applied past a gap")
        XCTAssertEqual(second.counters.snapshot.read, 0)
    }

    // MARK: - 5. Throttling, 5xx, dropped connections

    func testThrottledFailingAndDroppedStreamReads_areRetried_nothingLost_andTheRetriesCounted() throws {
        let h = try StreamHarness(shards: 3)
        defer { h.close() }
        let s = h.standIn
        let throttled = s.inject(.throttling(on: [.getRecords], code: "LimitExceededException", times: 3))
        // Spread out, so no single call fails more often than the client retries.
        let failed = s.inject(.internalError(on: [.getRecords, .getShardIterator, .describeStream], times: 3, skipFirst: 12))
        let reset = s.inject(StandInFault(.resetConnection, on: [.getRecords], trigger: .times(2), skipFirst: 25))
        let closed = s.inject(StandInFault(.closeConnection, on: [.getRecords], trigger: .times(2), skipFirst: 40))
        let expected = [(throttled, 3), (failed, 3), (reset, 2), (closed, 2)]
        try h.put((0..<90).map { streamItem(spreadKey($0 % 45), v: $0 / 45 + 1) })
        let run = try h.start()
        try h.put((0..<45).filter { $0 % 4 == 0 }.map { streamItem(spreadKey($0), v: 3) })
        try h.delete((0..<45).filter { $0 % 9 == 0 }.map { spreadKey($0) })
        // Idle polling goes on, so every fault gets its turn.
        XCTAssertTrue(h.eventually { expected.allSatisfy { s.firedCount($0.0) == $0.1 } })
        try h.put((0..<45).filter { $0 % 5 == 1 }.map { streamItem(spreadKey($0), v: 4) })
        try h.waitForTargetToEqualSource()
        XCTAssertEqual(run.stop(), .stopped)

        XCTAssertEqual(s.firedCount(throttled), 3)
        XCTAssertEqual(s.firedCount(failed), 3)
        XCTAssertEqual(s.firedCount(reset), 2)
        XCTAssertEqual(s.firedCount(closed), 2)
        let retries = h.clientRetries.snapshot
        XCTAssertGreaterThanOrEqual(retries.throttlingRetries, 3)
        // libcurl itself resends a request whose reused connection died
        // before any answer, so dropped connections need not show here.
        XCTAssertGreaterThanOrEqual(retries.transientRetries, 3, "the 500s")
        XCTAssertGreaterThan(retries.recovered, 0)
        XCTAssertTrue(retries.gaveUp.isEmpty, "\(retries.gaveUp)")
        let total = try h.standIn.shards(table: StreamHarness.source).reduce(0) { $0 + $1.recordCount }
        XCTAssertEqual(run.counters.snapshot.read, total, "every record read once")
    }

    func testThrottledFailingAndPartlyAppliedBatchWrites_areRetriedByTheLanes_nothingLost_andCounted() throws {
        let h = try StreamHarness(shards: 2)
        defer { h.close() }
        let s = h.standIn
        let throttled = s.inject(.throttling(on: [.batchWriteItem], times: 6))
        // Positions 0 and 2: even a one-write batch comes back partly unapplied.
        let unprocessed = s.inject(.unprocessedItems(.positions([0, 2]), times: 6))
        let failed = s.inject(.internalError(on: [.batchWriteItem], times: 4, skipFirst: 3))
        let reset = s.inject(StandInFault(.resetConnection, on: [.batchWriteItem], trigger: .times(2), skipFirst: 6))
        let closed = s.inject(StandInFault(.closeConnection, on: [.batchWriteItem], trigger: .times(2), skipFirst: 10))
        let expected = [(throttled, 6), (unprocessed, 6), (failed, 4), (reset, 2), (closed, 2)]
        let run = try h.start()
        // Rounds of writes until every fault has fired.
        var round = 0
        repeat {
            round += 1
            try h.put((0..<50).map { streamItem(spreadKey($0), v: round) })
            try h.waitForTargetToEqualSource()
        } while !expected.allSatisfy({ s.firedCount($0.0) == $0.1 }) && round < 10
        try h.delete((0..<50).filter { $0 % 6 == 0 }.map { spreadKey($0) })
        try h.waitForTargetToEqualSource()
        XCTAssertEqual(run.stop(), .stopped)

        XCTAssertEqual(s.firedCount(throttled), 6)
        XCTAssertEqual(s.firedCount(unprocessed), 6)
        XCTAssertEqual(s.firedCount(failed), 4)
        XCTAssertEqual(s.firedCount(reset), 2)
        XCTAssertEqual(s.firedCount(closed), 2)
        let totals = run.counters.snapshot
        XCTAssertGreaterThanOrEqual(totals.throttles, 12, "throttling answers and UnprocessedItems")
        // libcurl itself resends a request whose reused connection died
        // before any answer, so not every dropped connection reaches the lane.
        XCTAssertGreaterThanOrEqual(totals.retries, 4, "5xx answers (and dropped connections)")
        XCTAssertEqual(totals.deadLettered, 0)
        for k in (0..<50) where k % 6 != 0 {
            let versions = try h.targetVersions(of: spreadKey(k))
            XCTAssertEqual(versions.last, round)
            XCTAssertEqual(versions, versions.sorted(), "k\(k) applied out of order: \(versions)")
        }
        let status = try XCTUnwrap(h.status())
        XCTAssertEqual(status.totals.throttles, totals.throttles)
        XCTAssertEqual(status.totals.retries, totals.retries)
    }

    func testStop_whileTheTargetIsDown_endsWithinTheDrainDeadline_andTheUnappliedRecordsAreReadAgainOnRestart() throws {
        let h = try StreamHarness(shards: 1)
        defer { h.close() }
        let shard = try h.standIn.openShardIDs(table: StreamHarness.source)[0]
        try h.put((0..<20).map { streamItem("k\($0)", v: 1) })
        let down = h.standIn.inject(StandInFault(.internalError, on: [.batchWriteItem]))
        let run = try h.start(h.options { $0.drainDeadline = 0.5 },
                              pool: h.poolOptions { $0.lanes = 1; $0.batchSize = 1; $0.laneCapacity = 1 })
        // The lane retries its first write; the reader waits on the full lane.
        XCTAssertTrue(h.eventually { h.standIn.firedCount(down) >= 5 && run.counters.snapshot.read == 7 })
        let started = monotonicSeconds()
        XCTAssertEqual(run.stop(), .stopped)
        XCTAssertLessThan(monotonicSeconds() - started, 7, "the drain deadline bounds the shutdown")
        XCTAssertEqual(try h.standIn.itemCount(table: StreamHarness.target), 0)
        XCTAssertNil(try h.checkpoint()?.shards[shard]?.sequence, "nothing was applied, so nothing is checkpointed")

        h.standIn.removeFault(down)
        let again = try h.start()
        try h.waitForTargetToEqualSource()
        XCTAssertEqual(again.stop(), .stopped)
        XCTAssertEqual(again.counters.snapshot.read, 20)
    }

    func testMissingTargetTable_failsTheRun_reportsWhy_andCheckpointsNothingUnapplied() throws {
        let h = try StreamHarness(shards: 1)
        defer { h.close() }
        let shard = try h.standIn.openShardIDs(table: StreamHarness.source)[0]
        try h.standIn.deleteTable(StreamHarness.target)
        try h.put((0..<10).map { streamItem("k\($0)", v: 1) })
        let run = try h.start()
        let outcome = try XCTUnwrap(run.outcome(within: 10), "a refused write must end the run by itself")
        guard case .failed(let why) = outcome else { return XCTFail("expected a failure, got \(outcome)") }
        XCTAssertTrue(why.contains("ResourceNotFoundException"), why)
        let status = try XCTUnwrap(h.status())
        XCTAssertEqual(status.phase, .failed)
        XCTAssertEqual(status.lastError, why)
        XCTAssertNil(try h.checkpoint()?.shards[shard]?.sequence)
        XCTAssertEqual(run.counters.snapshot.deadLettered, 0, "a missing table is not the items' fault")
        XCTAssertEqual(try h.deadLetters().count, 0)
    }

    // MARK: - 6. Dead letters

    func testItemsTheTargetRefuses_goToTheDeadLetterFile_theRestIsApplied_andTheShardMovesOn() throws {
        let h = try StreamHarness(shards: 1)
        defer { h.close() }
        let shard = try h.standIn.openShardIDs(table: StreamHarness.source)[0]
        h.standIn.inject(.rejectItems(.hasAttribute("poison")))
        try h.put((0..<10).map { streamItem("k\($0)", v: 1) })
        try h.put([streamItem("bad", v: 1, ["poison": .s("yes")])])        // an INSERT the target refuses
        try h.put([streamItem("k3", v: 2, ["poison": .s("yes")])])         // a MODIFY the target refuses
        try h.put((10..<20).map { streamItem("k\($0)", v: 1) })
        let records = try h.records(ofShard: shard)
        let last = try XCTUnwrap(SequenceNumber(records.last!.sequenceNumber))

        let run = try h.start()
        XCTAssertTrue(try h.eventually {
            let c = try h.comparison()
            return keys(in: c) == ["bad"] && c.onlyInSecond.isEmpty && c.different.count == 1
                && run.replicator.statusReport().shards.first?.lastSequenceApplied == last.digits
        }, "\(h.differences)")
        XCTAssertEqual(run.stop(), .stopped)

        XCTAssertEqual(try h.comparison().different.first?.key["pk"], .s("k3"))
        XCTAssertEqual(try h.targetVersions(of: "k3"), [1], "the refused MODIFY left the target's k3 alone")
        let lines = try h.deadLetters()
        XCTAssertEqual(lines.count, 2)
        let expected: [(String, Int)] = [("bad", 10), ("k3", 11)]
        for (line, (pk, index)) in zip(lines, expected) {
            XCTAssertEqual(line["source"] as? String, shard)
            XCTAssertEqual(line["sequence"] as? String, SequenceNumber(records[index].sequenceNumber)?.digits)
            XCTAssertEqual(line["kind"] as? String, "put")
            XCTAssertEqual((line["keys"] as? [String: Any])?["pk"] as? [String: String], ["S": pk])
            XCTAssertTrue((line["reason"] as? String)?.hasPrefix("ValidationException") == true, "\(line)")
            XCTAssertNil(line["poison"], "the dead-letter line holds keys, not item values")
        }
        XCTAssertEqual(run.counters.snapshot.deadLettered, 2)
        XCTAssertEqual(try h.checkpoint()?.shards[shard]?.sequence, last, "the checkpoint moves past the refused records")
    }
}
