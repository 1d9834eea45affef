import AWSClient
@testable import Replication
import XCTest

/// The replication decisions with no network, no threads and no sleeping:
/// events in, actions out, the clock passed in.
final class ReplicationCoreTests: XCTestCase {
    private let arn = "arn:aws:dynamodb:us-east-1:1:table/t/stream/1"
    private func seq(_ n: Int) -> SequenceNumber { SequenceNumber(String(n))! }
    private func core(_ checkpoint: Checkpoint? = nil, configure: (inout ReplicationCore.Options) -> Void = { _ in })
        -> ReplicationCore {
        var options = ReplicationCore.Options(streamArn: arn)
        configure(&options)
        return ReplicationCore(options: options, checkpoint: checkpoint, now: 1000)
    }
    private func polls(_ actions: [ReplicationCore.Action]) -> [String: ShardIteratorPosition] {
        var out: [String: ShardIteratorPosition] = [:]
        for case .poll(let shard, let position) in actions { out[shard] = position }
        return out
    }
    private func refs(_ numbers: [Int], ids: [String]? = nil) -> [ReplicationCore.RecordRef] {
        numbers.enumerated().map { .init(sequence: seq($1), eventID: ids?[$0] ?? "e\($1)", createdAt: 900) }
    }

    func testStart_listsTheStream_andDiscoveryStartsParentsBeforeChildren() {
        var c = core()
        XCTAssertEqual(c.start(now: 1000), [.discover(after: nil)])
        let actions = c.discovered([ShardDescriptor(id: "a", endingSequence: seq(50)),
                                    ShardDescriptor(id: "b", parentId: "a"),
                                    ShardDescriptor(id: "c")], complete: true, now: 1000)
        XCTAssertEqual(polls(actions), ["a": .trimHorizon, "c": .trimHorizon], "b waits for its parent")
    }

    func testCutover_recordsCreatedBeforeIt_areAcknowledgedNotApplied_onEveryShard_andTheCheckpointPassesThem() {
        var c = core { $0.notBefore = 1000 }
        _ = c.start(now: 1000)
        // A shard known at the cut-over, and one that appears later: both start at the
        // trim horizon, and the cut-off applies to both.
        _ = c.discovered([ShardDescriptor(id: "a")], complete: true, now: 1000)
        let records: [ReplicationCore.RecordRef] = [
            .init(sequence: seq(10), eventID: "e10", createdAt: 998),
            .init(sequence: seq(20), eventID: "e20", createdAt: 999.9),
            .init(sequence: seq(30), eventID: "e30", createdAt: 1000),
            .init(sequence: seq(40), eventID: "e40", createdAt: 1003),
        ]
        let page = c.pageRead(shard: "a", records: records, ended: false, now: 1001)
        XCTAssertEqual(page.beforeCutover.map(\.sequence), [seq(10), seq(20)])
        XCTAssertEqual(page.accepted.map(\.index), [2, 3], "from the cut-over's second on")
        c.applied(page.beforeCutover + page.accepted.map(\.origin), now: 1002)
        let saved = c.tick(now: 1010, queued: 0, requestsCompleted: 0).compactMap { action -> CheckpointDelta? in
            if case .saveCheckpoint(let delta) = action { return delta }
            return nil
        }
        XCTAssertEqual(saved.last?.changed["a"]?.sequence, seq(40))

        let later = c.discovered([ShardDescriptor(id: "a"), ShardDescriptor(id: "n")], complete: true, now: 1011)
        XCTAssertEqual(polls(later), ["n": .trimHorizon])
        let old = c.pageRead(shard: "n", records: [.init(sequence: seq(5), eventID: "n5", createdAt: 950)], ended: false, now: 1012)
        XCTAssertEqual(old.accepted.count, 0)
        XCTAssertEqual(old.beforeCutover.count, 1)
    }

    func testCutover_aRecordWithoutACreationTime_stopsTheRunAndNothingOfItsPageIsApplied() {
        var c = core { $0.notBefore = 1000 }
        _ = c.start(now: 1000)
        _ = c.discovered([ShardDescriptor(id: "a")], complete: true, now: 1000)
        let page = c.pageRead(shard: "a", records: [.init(sequence: seq(10), eventID: "e10", createdAt: 1005),
                                                    .init(sequence: seq(20), eventID: "e20", createdAt: nil)],
                              ended: false, now: 1001)
        XCTAssertTrue(page.accepted.isEmpty)
        XCTAssertTrue(page.actions.contains { if case .finish(.failed(let why)) = $0 { return why.contains("ApproximateCreationDateTime") }; return false },
                      "\(page.actions)")
    }

    func testDrainedParent_startsItsKnownChildren_withoutAListing_onlyAfterItsPageIsHandedOut() {
        var c = core()
        _ = c.start(now: 1000)
        _ = c.discovered([ShardDescriptor(id: "a", endingSequence: seq(20)), ShardDescriptor(id: "b", parentId: "a"),
                          ShardDescriptor(id: "b2", parentId: "a")], complete: true, now: 1000)
        let page = c.pageRead(shard: "a", records: refs([10, 20]), ended: true, now: 1001)
        XCTAssertEqual(page.accepted.map(\.index), [0, 1])
        XCTAssertEqual(polls(page.actions), ["b": .trimHorizon, "b2": .trimHorizon])
        XCTAssertFalse(page.actions.contains { if case .discover = $0 { return true }; return false },
                       "the children come from the lineage already held")
        XCTAssertEqual(c.lineage.phases["a"], .drained, "drained, not finished: two records are still in flight")
        c.applied(page.accepted.map(\.origin), now: 1002)
        XCTAssertEqual(c.lineage.phases["a"], .finished)
    }

    func testDrainedParent_withNoKnownChild_asksForTheShardsAfterTheLastListed_atMostOncePerInterval() {
        var c = core()
        _ = c.start(now: 1000)
        _ = c.discovered([ShardDescriptor(id: "a"), ShardDescriptor(id: "z")], complete: true, now: 1000)
        let drained = c.drained("a", now: 1001)
        XCTAssertEqual(drained, [.discover(after: "z")])
        XCTAssertEqual(c.drained("a", now: 1001.5), [], "rate-limited")
        XCTAssertTrue(c.tick(now: 1002.1, queued: 0, requestsCompleted: 0).contains(.discover(after: "z")))
        let found = c.discovered([ShardDescriptor(id: "a1", parentId: "a")], complete: false, now: 1003)
        XCTAssertEqual(polls(found), ["a1": .trimHorizon])
        XCTAssertFalse(c.tick(now: 1004.5, queued: 0, requestsCompleted: 0).contains(.discover(after: "z")),
                       "the child was found: no more look-ups")
    }

    func testRestart_startsAfterTheCheckpoint_finishedShardsStayFinished_andReplaysBelowAreSkipped() {
        var saved = Checkpoint(streamArn: arn)
        saved.shards = ["a": .init(sequence: seq(40), finished: false), "old": .init(sequence: seq(9), finished: true)]
        saved.updatedAt = Date(timeIntervalSince1970: 990)
        var c = core(saved)
        _ = c.start(now: 1000)
        let actions = c.discovered([ShardDescriptor(id: "old", endingSequence: seq(9)), ShardDescriptor(id: "a", parentId: "old")],
                                   complete: true, now: 1000)
        XCTAssertEqual(polls(actions), ["a": .afterSequenceNumber("40")])
        c.iteratorOpened(shard: "a", at: .afterSequenceNumber("40"))
        let page = c.pageRead(shard: "a", records: refs([40, 41]), ended: false, now: 1001)
        XCTAssertEqual(page.accepted.map(\.index), [1])
        XCTAssertEqual(page.replays, 1)
    }

    func testFirstRunAtLatest_closedShardsAreHistory_andAShardFoundLaterStartsAtItsBeginning() {
        var c = core { $0.startPosition = .latest }
        _ = c.start(now: 1000)
        let first = c.discovered([ShardDescriptor(id: "closed", endingSequence: seq(5)), ShardDescriptor(id: "open")],
                                 complete: true, now: 1000)
        XCTAssertEqual(polls(first), ["open": .latest])
        let later = c.discovered([ShardDescriptor(id: "new")], complete: false, now: 1010)
        XCTAssertEqual(polls(later), ["new": .trimHorizon])
    }

    func testCheckpointOlderThanRetention_isAGap_thatEndsTheRun_unlessSkipping() {
        var saved = Checkpoint(streamArn: arn)
        saved.shards = ["a": .init(sequence: seq(40))]
        saved.updatedAt = Date(timeIntervalSince1970: 0)
        var c = core(saved)
        let actions = c.start(now: 25 * 3600)
        guard case .reportGap(let gap)? = actions.first else { return XCTFail("\(actions)") }
        XCTAssertEqual(gap.shard, "a")
        XCTAssertEqual(gap.afterSequence, "40")
        XCTAssertTrue(actions.contains { if case .finish(.gap) = $0 { return true }; return false })
        XCTAssertFalse(actions.contains(.discover(after: nil)), "nothing is read past a gap")

        var skipping = core(saved) { $0.skipTrimmedGaps = true }
        let going = skipping.start(now: 25 * 3600)
        XCTAssertTrue(going.contains(.discover(after: nil)))
        XCTAssertEqual(skipping.gaps.first?.skipped, true)
    }

    func testUnfinishedShardMissingFromTheStreamAfterARestart_isAGap() {
        var saved = Checkpoint(streamArn: arn)
        saved.shards = ["gone": .init(sequence: seq(7))]
        saved.updatedAt = Date(timeIntervalSince1970: 999)
        var c = core(saved)
        _ = c.start(now: 1000)
        let actions = c.discovered([ShardDescriptor(id: "b")], complete: true, now: 1000)
        XCTAssertTrue(actions.contains { if case .reportGap(let g) = $0 { return g.shard == "gone" }; return false })
    }

    func testTrimmedRead_isAGap_andWithSkippingThePollGoesOnFromTheTrimHorizon() {
        var c = core { $0.skipTrimmedGaps = true }
        _ = c.start(now: 1000)
        _ = c.discovered([ShardDescriptor(id: "a")], complete: true, now: 1000)
        let actions = c.trimmed(shard: "a", after: seq(3), operation: "GetRecords", now: 1001)
        XCTAssertEqual(polls(actions), ["a": .trimHorizon])
        XCTAssertNil(c.outcome)
    }

    func testCheckpoint_isTheAcknowledgedPrefix_savedOnlyForShardsThatChanged() {
        var c = core()
        _ = c.start(now: 1000)
        _ = c.discovered([ShardDescriptor(id: "a"), ShardDescriptor(id: "b")], complete: true, now: 1000)
        let page = c.pageRead(shard: "a", records: refs([1, 2, 3]), ended: false, now: 1000)
        c.applied([page.accepted[0].origin, page.accepted[2].origin], now: 1001)
        let first = c.tick(now: 1001, queued: 0, requestsCompleted: 1)
        XCTAssertTrue(first.contains(.saveCheckpoint(CheckpointDelta(streamArn: arn, changed: ["a": .init(sequence: seq(1))],
                                                                     removed: []))), "\(first)")
        XCTAssertFalse(c.tick(now: 1003, queued: 0, requestsCompleted: 1).contains { if case .saveCheckpoint = $0 { return true }; return false },
                       "nothing moved: nothing written")
        c.applied([page.accepted[1].origin], now: 1004)
        XCTAssertTrue(c.tick(now: 1004, queued: 0, requestsCompleted: 2).contains(
            .saveCheckpoint(CheckpointDelta(streamArn: arn, changed: ["a": .init(sequence: seq(3))], removed: []))))
    }

    func testFinishedShard_agedOutOfTheStream_withFinishedChildren_leavesTheCheckpoint() {
        var c = core()
        _ = c.start(now: 1000)
        _ = c.discovered([ShardDescriptor(id: "p", endingSequence: seq(1)), ShardDescriptor(id: "c", parentId: "p")],
                         complete: true, now: 1000)
        _ = c.pageRead(shard: "p", records: [], ended: true, now: 1001)
        XCTAssertEqual(c.lineage.phases["p"], .finished)
        _ = c.tick(now: 1002, queued: 0, requestsCompleted: 0)
        // Later the stream no longer lists p, but c is still open: p stays.
        XCTAssertFalse(c.discovered([ShardDescriptor(id: "c", parentId: "p")], complete: true, now: 1100)
            .contains { if case .saveCheckpoint = $0 { return true }; return false })
        _ = c.pageRead(shard: "c", records: [], ended: true, now: 1101)
        let actions = c.discovered([ShardDescriptor(id: "c", parentId: "p")], complete: true, now: 1200)
        XCTAssertTrue(actions.contains(.saveCheckpoint(CheckpointDelta(streamArn: arn, changed: [:], removed: ["p"]))))
        XCTAssertNil(c.lineage.phases["p"])
    }

    func testOutOfOrderRecords_areAccepted_andReported() {
        var c = core()
        _ = c.start(now: 1000)
        _ = c.discovered([ShardDescriptor(id: "a")], complete: true, now: 1000)
        let page = c.pageRead(shard: "a", records: refs([5, 5, 4, 6], ids: ["x", "y", "z", "w"]), ended: false, now: 1000)
        XCTAssertEqual(page.accepted.count, 4)
        XCTAssertEqual(page.outOfOrder, 2)
        XCTAssertEqual(page.actions, [.outOfOrder(shard: "a", previous: seq(5), sequence: seq(5)),
                                      .outOfOrder(shard: "a", previous: seq(5), sequence: seq(4))])
        let again = c.pageRead(shard: "a", records: refs([5, 4], ids: ["y", "z"]), ended: false, now: 1001)
        XCTAssertEqual(again.accepted.count, 0, "the same records delivered again")
        XCTAssertEqual(again.replays, 2)
    }

    func testRecordFallingBelowTheAppliedCheckpoint_atAPageBoundary_isNew() {
        var c = core()
        _ = c.start(now: 1000)
        _ = c.discovered([ShardDescriptor(id: "a")], complete: true, now: 1000)
        c.iteratorOpened(shard: "a", at: .trimHorizon)
        let first = c.pageRead(shard: "a", records: refs([5, 6]), ended: false, now: 1000)
        c.applied(first.accepted.map(\.origin), now: 1000)
        let second = c.pageRead(shard: "a", records: refs([4], ids: ["late"]), ended: false, now: 1001)
        XCTAssertEqual(second.accepted.count, 1, "a new record, whatever its number: dropping it would lose a change")
        XCTAssertEqual(second.outOfOrder, 1)
    }

    func testLeased_shardsStartOnlyWhenOwned_fromTheLeasesCheckpoint_andAReleasedShardIgnoresLateAcks() {
        var c = core { $0.leased = true }
        _ = c.start(now: 1000)
        let listed = c.discovered([ShardDescriptor(id: "a", endingSequence: seq(9)), ShardDescriptor(id: "b", parentId: "a")],
                                  complete: true, now: 1000)
        XCTAssertEqual(polls(listed), [:], "nothing is read before a lease is held")
        XCTAssertEqual(polls(c.own("a", from: seq(4), now: 1001)), ["a": .afterSequenceNumber("4")])
        c.iteratorOpened(shard: "a", at: .afterSequenceNumber("4"))
        let page = c.pageRead(shard: "a", records: refs([5, 9]), ended: true, now: 1002)
        XCTAssertEqual(polls(page.actions), [:], "the child waits for its own lease, not for the parent draining here")
        c.applied(page.accepted.map(\.origin), now: 1003)
        XCTAssertEqual(c.lineage.phases["a"], .finished)
        XCTAssertEqual(c.takeCheckpointDelta()?.changed["a"], .init(sequence: seq(9), finished: true),
                       "a finished shard's lease row learns it from the checkpoint")

        XCTAssertEqual(polls(c.own("b", from: nil, now: 1004)), ["b": .trimHorizon])
        let child = c.pageRead(shard: "b", records: refs([20, 21]), ended: false, now: 1005)
        c.release("b")
        c.applied(child.accepted.map(\.origin), now: 1006)
        XCTAssertNil(c.takeCheckpointDelta()?.changed["b"], "a released shard is not checkpointed here")
        XCTAssertEqual(c.lineage.phases["b"], .waiting)
        XCTAssertEqual(c.readingShards, [])
    }

    func testStall_isDeclaredWhenRecordsWaitAndNothingMoves_andClearsWhenSomethingDoes() {
        var c = core { $0.stallSeconds = 120 }
        _ = c.start(now: 1000)
        _ = c.discovered([ShardDescriptor(id: "a")], complete: true, now: 1000)
        _ = c.pageRead(shard: "a", records: refs([1]), ended: false, now: 1000)
        XCTAssertFalse(c.tick(now: 1100, queued: 5, requestsCompleted: 0).contains { if case .stalled = $0 { return true }; return false })
        XCTAssertTrue(c.tick(now: 1121, queued: 5, requestsCompleted: 0).contains { if case .stalled = $0 { return true }; return false })
        XCTAssertTrue(c.stalled)
        XCTAssertTrue(c.tick(now: 1122, queued: 5, requestsCompleted: 1).contains(.resumed))
    }

    func testIdleStream_neverStalls() {
        var c = core { $0.stallSeconds = 120 }
        _ = c.start(now: 1000)
        _ = c.discovered([ShardDescriptor(id: "a")], complete: true, now: 1000)
        _ = c.pageRead(shard: "a", records: [], ended: false, now: 1000)
        XCTAssertFalse(c.tick(now: 5000, queued: 0, requestsCompleted: 0).contains { if case .stalled = $0 { return true }; return false })
    }

    func testFullListingInterval_growsWithTheShardCount_soDescribeStreamStaysUnderItsLimit() {
        var c = core()
        _ = c.start(now: 1000)
        XCTAssertEqual(c.fullDiscoveryInterval, 5)
        _ = c.discovered((0..<10_000).map { ShardDescriptor(id: String(format: "s%05d", $0)) }, complete: true, now: 1000)
        // 100 pages per listing at 2 calls per second on average.
        XCTAssertEqual(c.fullDiscoveryInterval, 50)
        XCTAssertFalse(c.tick(now: 1040, queued: 0, requestsCompleted: 0).contains(.discover(after: nil)))
        XCTAssertTrue(c.tick(now: 1051, queued: 0, requestsCompleted: 0).contains(.discover(after: nil)))
    }
}

final class PollScheduleTests: XCTestCase {
    func testHotShards_comeFirstAndOutsideTheBudget() {
        var s = PollSchedule(pollsPerSecond: 1, now: 0)
        s.add("idle", at: 0, idle: true)
        s.add("hot1", at: 0, idle: false)
        s.add("hot2", at: 0, idle: false)
        XCTAssertEqual(s.next(now: 0), .poll("hot1"))
        XCTAssertEqual(s.next(now: 0), .poll("hot2"))
        XCTAssertEqual(s.next(now: 0), .poll("idle"))
    }

    func testIdlePolls_stayWithinTheBudget() {
        var s = PollSchedule(pollsPerSecond: 100, now: 0)
        for i in 0..<5000 { s.add("s\(i)", at: 0, idle: true) }
        var polled = 0
        var now = 0.0
        // Ten simulated seconds, asking whenever told to.
        while now < 10 {
            switch s.next(now: now) {
            case .poll(let shard):
                polled += 1
                s.add(shard, at: now + 1, idle: true)
            case .wait(let until):
                now = max(until, now + 0.001)
            }
        }
        XCTAssertLessThanOrEqual(polled, 100 * 10 + 10, "the budget plus its burst")
        XCTAssertGreaterThan(polled, 100 * 10 - 10)
    }

    func testNotDue_waitsUntilTheEarliestDueTime() {
        var s = PollSchedule(pollsPerSecond: 10, now: 0)
        s.add("a", at: 5, idle: false)
        s.add("b", at: 3, idle: true)
        XCTAssertEqual(s.next(now: 1), .wait(until: 3))
        XCTAssertEqual(s.next(now: 5), .poll("a"))
        XCTAssertEqual(s.next(now: 5), .poll("b"))
        XCTAssertEqual(s.next(now: 5), .wait(until: .infinity))
    }
}
