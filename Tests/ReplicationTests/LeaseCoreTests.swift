@testable import Replication
import XCTest

/// The lease decisions with no table, no threads and no sleeping: rows and
/// answers in, actions out, a fake clock passed in. Leases of 30 s and
/// requests of at most 5 s give a write window of 15 s after each renewal.
final class LeaseCoreTests: XCTestCase {
    typealias Action = LeaseCore.Action

    func core(_ id: String = "w1", configure: (inout LeaseCore.Options) -> Void = { _ in }) -> LeaseCore {
        var options = LeaseCore.Options(workerId: id)
        configure(&options)
        return LeaseCore(options: options)
    }
    func seq(_ n: Int) -> SequenceNumber { SequenceNumber(String(n))! }
    func row(_ id: String, _ owner: String? = nil, counter: Int = 0, parents: [String] = [], finished: Bool = false)
        -> LeaseRow {
        LeaseRow(shardId: id, owner: owner, counter: counter, parents: parents, finished: finished)
    }
    func listing(_ rows: [LeaseRow]) -> [ShardDescriptor] { rows.map { ShardDescriptor(id: $0.shardId, parentId: $0.parents.first) } }
    func takes(_ actions: [Action]) -> [String] {
        actions.compactMap { if case .take(let shard, _, _) = $0 { return shard }; return nil }
    }
    func renews(_ actions: [Action]) -> [Action] { actions.filter { if case .renew = $0 { return true }; return false } }
    func writes(_ actions: [Action]) -> [Action] { actions.filter { if case .writeCheckpoint = $0 { return true }; return false } }

    /// Takes unowned `id` at `now` and answers as the table would.
    @discardableResult
    func hold(_ c: inout LeaseCore, _ id: String, checkpoint: SequenceNumber? = nil, at now: Double) -> [Action] {
        let actions = c.tableRead([row(id)], listed: nil, now: now)
        XCTAssertEqual(takes(actions), [id])
        return c.taken(LeaseRow(shardId: id, owner: c.options.workerId, counter: 1, checkpoint: checkpoint), now: now)
    }

    // MARK: - Taking

    func testTake_unownedShards_olderGenerationsFirst_andNoChildOfAnUnfinishedParent() {
        var c = core()
        let rows = [row("p", "w9", finished: true), row("c1", parents: ["p"]), row("z"), row("b"), row("a2", parents: ["b"])]
        XCTAssertEqual(takes(c.tableRead(rows, listed: listing(rows), now: 0)), ["b", "z", "c1"])
    }

    func testTake_stopsAtTheFairShare_countingLiveOwners() {
        var c = core()
        let rows = (0..<6).map { row("u\($0)") } + [row("x", "w2", counter: 3), row("y", "w2", counter: 4)]
        // 8 shards, 2 live workers: 4 each.
        XCTAssertEqual(takes(c.tableRead(rows, listed: nil, now: 0)), ["u0", "u1", "u2", "u3"])
        XCTAssertEqual(c.share(now: 0), LeaseCore.Share(low: 4, high: 4, workers: 2))
    }

    func testTake_whenParentNotFinished_leavesTheChild_untilItsRowSaysFinished() {
        var c = core()
        XCTAssertEqual(takes(c.tableRead([row("p", "w2", counter: 1), row("c", parents: ["p"])], listed: nil, now: 0)), [])
        XCTAssertEqual(takes(c.tableRead([row("p", "w2", counter: 2), row("c", parents: ["p"])], listed: nil, now: 10)), [])
        XCTAssertEqual(takes(c.tableRead([row("p", "w2", counter: 3, finished: true), row("c", parents: ["p"])],
                                         listed: nil, now: 20)), ["c"])
    }

    func testTake_childOfAParentWithoutARow_onlyOnceTheListingNoLongerNamesIt() {
        var c = core()
        let child = row("c", parents: ["gone"])
        XCTAssertEqual(c.tableRead([child], listed: nil, now: 0), [], "no listing yet: the parent may still be coming")
        let listedParent = c.tableRead([child], listed: [ShardDescriptor(id: "gone"), ShardDescriptor(id: "c", parentId: "gone")], now: 10)
        XCTAssertEqual(listedParent, [.createRow(row("gone"))], "listed without a row: its row is created, the child waits")
        XCTAssertEqual(takes(c.tableRead([child], listed: [ShardDescriptor(id: "c", parentId: "gone")], now: 20)), ["c"],
                       "aged out of the stream: nothing of it is left to read first")
    }

    func testTake_waitsUntilTheCounterStoodStillForALease_onThisWorkersClock() {
        var c = core()
        // Rows carry no times: a first sight starts the lease, whatever the
        // other worker's clock says.
        XCTAssertEqual(takes(c.tableRead([row("s", "w2", counter: 5)], listed: nil, now: 7)), [])
        XCTAssertEqual(takes(c.tableRead([row("s", "w2", counter: 5)], listed: nil, now: 30)), [])
        XCTAssertEqual(takes(c.tableRead([row("s", "w2", counter: 6)], listed: nil, now: 35)), [], "renewed: the wait restarts")
        XCTAssertEqual(takes(c.tableRead([row("s", "w2", counter: 6)], listed: nil, now: 64.9)), [])
        XCTAssertEqual(c.tableRead([row("s", "w2", counter: 6)], listed: nil, now: 65),
                       [.take(shard: "s", expectedOwner: "w2", expectedCounter: 6)])
    }

    func testRestartedWorker_treatsRowsUnderItsOwnName_likeAnyOther_untilTheyExpire() {
        var c = core()
        XCTAssertEqual(takes(c.tableRead([row("s", "w1", counter: 4)], listed: nil, now: 0)), [],
                       "an earlier process of this name may still be writing")
        XCTAssertEqual(takes(c.tableRead([row("s", "w1", counter: 4)], listed: nil, now: 30)), ["s"])
    }

    func testTaken_startsReadingFromTheCheckpointOfTheRowAsWritten() {
        var c = core()
        XCTAssertEqual(hold(&c, "s", checkpoint: seq(42), at: 0), [.startReading(shard: "s", from: seq(42))])
        XCTAssertTrue(c.mayWrite("s", now: 0))
        XCTAssertEqual(c.ownedShards, ["s"])
    }

    func testTakeFailed_isTriedAgainAtTheNextRead() {
        var c = core()
        XCTAssertEqual(takes(c.tableRead([row("s")], listed: nil, now: 0)), ["s"])
        XCTAssertEqual(takes(c.tableRead([row("s")], listed: nil, now: 1)), [], "still in flight")
        c.takeFailed("s")
        XCTAssertEqual(takes(c.tableRead([row("s")], listed: nil, now: 2)), ["s"])
    }

    // MARK: - Renewing and the write window

    func testRenew_everyThirdOfALease_countedFromWhenTheRenewalWasSent() {
        var c = core()
        hold(&c, "s", at: 0)
        XCTAssertEqual(renews(c.tick(now: 9.9)), [])
        XCTAssertEqual(renews(c.tick(now: 10)), [.renew(shard: "s", expectedCounter: 1)])
        XCTAssertEqual(renews(c.tick(now: 12)), [], "one in flight at a time")
        XCTAssertEqual(c.renewed("s", counter: 2, now: 13), [])
        XCTAssertEqual(renews(c.tick(now: 19.9)), [])
        XCTAssertEqual(renews(c.tick(now: 20)), [.renew(shard: "s", expectedCounter: 2)])
    }

    func testRenewRejected_becauseSomeoneElseTookTheShard_stopsReadingAtOnce() {
        var c = core()
        hold(&c, "s", at: 0)
        _ = c.tick(now: 10)
        XCTAssertEqual(c.renewFailed("s", conditionFailed: true, now: 10.1), [.stopReading(shard: "s")])
        XCTAssertFalse(c.mayWrite("s", now: 10.1))
        XCTAssertEqual(c.ownedShards, [])
        XCTAssertEqual(renews(c.tick(now: 20)), [])
    }

    func testWriteWindow_endsAtLastRenewalPlusLeaseLessAThirdLessTheTimeout_whenTheStoreIsUnreachable() {
        var c = core()
        hold(&c, "s", at: 0)
        XCTAssertEqual(c.options.writeWindow, 15)
        _ = c.tick(now: 10)
        XCTAssertEqual(c.renewFailed("s", conditionFailed: false, now: 11), [])
        XCTAssertEqual(renews(c.tick(now: 12)), [.renew(shard: "s", expectedCounter: 1)], "retried after a second")
        _ = c.renewFailed("s", conditionFailed: false, now: 13)
        XCTAssertTrue(c.mayWrite("s", now: 14.99))
        XCTAssertFalse(c.mayWrite("s", now: 15))
        let atDeadline = c.tick(now: 15)
        XCTAssertEqual(atDeadline.first, .stopReading(shard: "s"))
        XCTAssertFalse(c.tick(now: 15.5).contains(.stopReading(shard: "s")), "stopped once")
        // The store answers again and the counter is still ours: reading
        // starts again from the row's checkpoint, in a new window.
        XCTAssertEqual(c.renewed("s", counter: 2, now: 16), [.startReading(shard: "s", from: nil)])
        XCTAssertTrue(c.mayWrite("s", now: 29.9))
        XCTAssertFalse(c.mayWrite("s", now: 30))
    }

    func testAfterAMissedWindow_aRejectedRenewal_neverStartsTheShardAgain() {
        var c = core()
        hold(&c, "s", at: 0)
        _ = c.tick(now: 10)
        _ = c.renewFailed("s", conditionFailed: false, now: 11)
        XCTAssertTrue(c.tick(now: 15).contains(.stopReading(shard: "s")))
        _ = c.tick(now: 16)
        XCTAssertEqual(c.renewFailed("s", conditionFailed: true, now: 17), [], "already stopped")
        XCTAssertEqual(c.ownedShards, [])
        XCTAssertFalse(c.tick(now: 40).contains { if case .startReading = $0 { return true }; return false })
    }

    func testWriteWindow_countsFromWhenTheRenewalWasSent_notWhenItWasAnswered() {
        var c = core()
        hold(&c, "s", at: 0)
        _ = c.tick(now: 10)
        _ = c.renewed("s", counter: 2, now: 14)
        XCTAssertTrue(c.mayWrite("s", now: 24.9))
        XCTAssertFalse(c.mayWrite("s", now: 25), "the write may have landed at 10: a taker may count from then")
    }

    func testOptions_refuseALeaseTooShortForTheRequestTimeout() {
        XCTAssertNil(LeaseCore.Options(workerId: "w1").validate())
        var tight = LeaseCore.Options(workerId: "w1")
        tight.requestTimeout = 10
        XCTAssertNotNil(tight.validate(), "a 10 s window closes as each renewal goes out")
    }

    // MARK: - Balancing

    func testSteal_fromTheBusiestLiveWorker_oneShardAtATime_andReadingWaitsOutTheOldHolder() {
        var c = core()
        var rows = ["a", "b", "c", "d"].map { row($0, "w2", counter: 1) } + ["e", "f"].map { row($0, "w3", counter: 1) }
        // 6 shards, 3 workers: 2 each. w2 holds 4.
        XCTAssertEqual(c.tableRead(rows, listed: nil, now: 0), [.take(shard: "d", expectedOwner: "w2", expectedCounter: 1)])
        XCTAssertEqual(c.taken(row("d", "w1", counter: 2), now: 0.5), [], "w2 may still be writing d")
        XCTAssertFalse(c.mayWrite("d", now: 1))
        rows[3] = row("d", "w1", counter: 2)
        for i in rows.indices where rows[i].owner != "w1" { rows[i].counter += 1 }
        XCTAssertEqual(takes(c.tableRead(rows, listed: nil, now: 10)), [], "one steal per lease")
        for t in [10.0, 20, 30] {
            _ = c.tick(now: t)
            _ = c.renewed("d", counter: 2, now: t)
        }
        XCTAssertFalse(c.tick(now: 30.4).contains { if case .startReading = $0 { return true }; return false })
        XCTAssertTrue(c.tick(now: 30.5).contains(.startReading(shard: "d", from: nil)))
        XCTAssertEqual(takes(c.tableRead(rows, listed: nil, now: 31)), ["c"], "w2 still holds 3, two more than 1")
    }

    func testSteal_needsTheVictimToHoldTwoMore_soNoShardIsStolenBack() {
        var c = core()
        hold(&c, "a", at: 0)
        let mine = [row("a", "w1", counter: 1)]
        for round in 0..<20 {
            let now = Double(round) * 10
            let others = ["x", "y"].map { row($0, "w2", counter: round) }
            XCTAssertEqual(takes(c.tableRead(mine + others, listed: nil, now: now)), [], "1 against 2 is even enough")
            _ = c.tick(now: now)
            _ = c.renewed("a", counter: 1, now: now)
        }
    }

    func testSurplus_isReleasedOneAtATime_afterItsReadingStops_withItsAppliedCheckpoint() {
        var c = core()
        let ids = ["a", "b", "c", "d", "e"]
        XCTAssertEqual(takes(c.tableRead(ids.map { row($0) }, listed: nil, now: 0)), ids, "alone: all of them")
        for id in ids { _ = c.taken(row(id, "w1", counter: 1), now: 0) }
        c.checkpointMoved("e", to: seq(7))
        let rows = ids.map { row($0, "w1", counter: 1) } + [row("x", "w2", counter: 1)]
        // 6 shards, 2 workers: 3 each; this worker holds 5.
        XCTAssertEqual(c.tableRead(rows, listed: nil, now: 1),
                       [.stopReading(shard: "e"), .release(shard: "e", expectedCounter: 1, checkpoint: seq(7))])
        XCTAssertEqual(c.tableRead(rows, listed: nil, now: 5), [], "at most one per read interval")
        XCTAssertEqual(c.tableRead(rows, listed: nil, now: 11),
                       [.stopReading(shard: "d"), .release(shard: "d", expectedCounter: 1, checkpoint: nil)])
        XCTAssertEqual(c.ownedShards, ["a", "b", "c"])
    }

    func testSurplusRelease_withARenewalInFlight_stopsAtOnce_butReleasesOnlyAfterTheAnswer() {
        var c = core()
        let ids = ["a", "b", "c", "d", "e"]
        _ = c.tableRead(ids.map { row($0) }, listed: nil, now: 0)
        for id in ids { _ = c.taken(row(id, "w1", counter: 1), now: 0) }
        XCTAssertEqual(renews(c.tick(now: 10)).count, 5)
        let rows = ids.map { row($0, "w1", counter: 1) } + [row("x", "w2", counter: 1)]
        XCTAssertEqual(c.tableRead(rows, listed: nil, now: 10), [.stopReading(shard: "e")],
                       "a release now would race the renewal's counter")
        XCTAssertFalse(c.mayWrite("e", now: 10))
        XCTAssertEqual(c.renewed("e", counter: 2, now: 10.5), [], "renewed, but given up: it does not start again")
        XCTAssertEqual(c.tick(now: 11).filter { if case .release = $0 { return true }; return false },
                       [.release(shard: "e", expectedCounter: 2, checkpoint: nil)])
        XCTAssertFalse(c.ownedShards.contains("e"))
    }

    // MARK: - Checkpoints

    func testCheckpoint_writtenOnlyWhenItMoved_atMostOncePerInterval() {
        var c = core()
        hold(&c, "s", checkpoint: seq(10), at: 0)
        XCTAssertEqual(writes(c.tick(now: 1)), [], "not moved")
        c.checkpointMoved("s", to: seq(11))
        XCTAssertEqual(writes(c.tick(now: 1.5)), [.writeCheckpoint(shard: "s", sequence: seq(11), finished: false)])
        c.checkpointWritten("s")
        c.checkpointMoved("s", to: seq(12))
        XCTAssertEqual(writes(c.tick(now: 6.4)), [])
        XCTAssertEqual(writes(c.tick(now: 6.5)), [.writeCheckpoint(shard: "s", sequence: seq(12), finished: false)])
        c.checkpointWritten("s")
        c.checkpointMoved("s", to: seq(9))
        XCTAssertEqual(writes(c.tick(now: 30)), [], "never backwards")
    }

    func testCheckpointAnsweredAfterTheWindowClosed_isWhereReadingStartsAgain_andNothingOlderIsWritten() {
        var c = core()
        hold(&c, "s", at: 0)
        c.checkpointMoved("s", to: seq(5))
        XCTAssertEqual(writes(c.tick(now: 1)), [.writeCheckpoint(shard: "s", sequence: seq(5), finished: false)])
        _ = c.tick(now: 10)
        _ = c.renewFailed("s", conditionFailed: false, now: 10)
        XCTAssertTrue(c.tick(now: 15).contains(.stopReading(shard: "s")))
        c.checkpointWritten("s")
        XCTAssertEqual(c.renewed("s", counter: 2, now: 16), [.startReading(shard: "s", from: seq(5))])
        XCTAssertEqual(writes(c.tick(now: 30)), [], "the row already says 5")
    }

    func testCheckpointRejected_becauseTheRowHasAnotherOwner_stopsReadingAtOnce() {
        var c = core()
        hold(&c, "s", at: 0)
        c.checkpointMoved("s", to: seq(3))
        XCTAssertEqual(writes(c.tick(now: 1)).count, 1)
        XCTAssertEqual(c.checkpointFailed("s", conditionFailed: true), [.stopReading(shard: "s")])
        XCTAssertEqual(c.ownedShards, [])
    }

    func testFinishedShard_isWrittenAtOnce_thenNoLongerRenewed_andItsChildBecomesTakeable() {
        var c = core()
        hold(&c, "p", at: 0)
        c.checkpointMoved("p", to: seq(5))
        _ = c.tick(now: 1)
        c.checkpointWritten("p")
        c.shardFinished("p")
        XCTAssertEqual(writes(c.tick(now: 2)), [.writeCheckpoint(shard: "p", sequence: seq(5), finished: true)])
        c.checkpointWritten("p")
        XCTAssertEqual(c.ownedShards, [])
        XCTAssertEqual(renews(c.tick(now: 40)), [])
        let rows = [LeaseRow(shardId: "p", owner: "w1", counter: 1, checkpoint: seq(5), finished: true), row("c", parents: ["p"])]
        XCTAssertEqual(takes(c.tableRead(rows, listed: nil, now: 41)), ["c"])
    }

    // MARK: - Rows

    func testCreateRow_forEveryListedShardWithoutARow_withItsParent() {
        var c = core()
        let actions = c.tableRead([row("a", "w2", counter: 1)],
                                  listed: [ShardDescriptor(id: "a"), ShardDescriptor(id: "b", parentId: "a")], now: 0)
        XCTAssertEqual(actions, [.createRow(row("b", parents: ["a"]))])
    }

    func testDelete_onlyFinishedRows_thatAgedOutOfTheStream_withEveryChildFinished() {
        var c = core()
        let open = [row("p", "w2", counter: 1, finished: true), row("c", "w2", counter: 1, parents: ["p"])]
        XCTAssertFalse(c.tableRead(open, listed: nil, now: 0).contains(.deleteRow(shard: "p")), "no listing")
        XCTAssertFalse(c.tableRead(open, listed: listing(open), now: 1).contains(.deleteRow(shard: "p")), "still listed")
        XCTAssertFalse(c.tableRead(open, listed: [ShardDescriptor(id: "c", parentId: "p")], now: 2)
            .contains(.deleteRow(shard: "p")), "its child is not finished")
        let done = [row("p", "w2", counter: 1, finished: true), row("c", "w2", counter: 2, parents: ["p"], finished: true)]
        XCTAssertEqual(c.tableRead(done, listed: [ShardDescriptor(id: "c", parentId: "p")], now: 3), [.deleteRow(shard: "p")])
    }

    func testRelinquishAll_stopsEachShardThenReleasesIt_andTakesNothingMore() {
        var c = core()
        hold(&c, "s", at: 0)
        c.checkpointMoved("s", to: seq(4))
        XCTAssertEqual(c.relinquishAll(), [.stopReading(shard: "s"), .release(shard: "s", expectedCounter: 1, checkpoint: seq(4))])
        XCTAssertEqual(c.tableRead([row("s"), row("t")], listed: nil, now: 1), [])
        XCTAssertEqual(c.tick(now: 20), [])
    }

    // MARK: - Health

    func testHealth_unhealthy_whenATakeableShardStaysUnowned_forMoreThanTwoLeases_whileBelowTheFairShare() {
        var c = core()
        for now in stride(from: 0.0, through: 70, by: 10) {
            XCTAssertEqual(takes(c.tableRead([row("s")], listed: nil, now: now)), ["s"])
            c.takeFailed("s")
        }
        XCTAssertTrue(c.health(now: 60).healthy)
        let health = c.health(now: 61)
        XCTAssertFalse(health.healthy)
        XCTAssertTrue(health.reason?.contains("shard s") == true, health.reason ?? "")
    }

    func testHealth_healthy_whileChildrenWaitForAParent() {
        var c = core()
        for round in 0..<10 {
            _ = c.tableRead([row("p", "w2", counter: round), row("c", parents: ["p"])], listed: nil, now: Double(round) * 10)
        }
        XCTAssertEqual(c.health(now: 100), LeaseHealth(healthy: true))
    }

    func testHealth_healthy_withMoreWorkersThanShards() {
        var c = core()
        for round in 0..<10 {
            _ = c.tableRead([row("a", "w2", counter: round), row("b", "w3", counter: round)], listed: nil, now: Double(round) * 10)
        }
        XCTAssertEqual(c.share(now: 100).high, 1)
        XCTAssertEqual(c.health(now: 100), LeaseHealth(healthy: true))
    }
}
