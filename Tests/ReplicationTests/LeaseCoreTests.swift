@testable import Replication
import XCTest

/// The lease decisions with no table, no threads and no sleeping: rows and
/// answers in, actions out, a fake clock passed in. Leases of 30 s and
/// requests of at most 5 s give a write window of 15 s after each
/// heartbeat and each confirming read; the table is read every 10 s.
final class LeaseCoreTests: XCTestCase {
    typealias Action = LeaseCore.Action

    /// A core whose first heartbeat was sent and answered at `startedAt`
    /// (counter 1), so it may take from `startedAt + 10`.
    func core(_ id: String = "w1", startedAt: Double = -10, configure: (inout LeaseCore.Options) -> Void = { _ in })
        -> LeaseCore {
        var options = LeaseCore.Options(workerId: id)
        options.heartbeatBase = 0
        configure(&options)
        var c = LeaseCore(options: options)
        XCTAssertEqual(c.tick(now: startedAt), [.heartbeat(counter: 1), .readTable])
        XCTAssertEqual(c.heartbeatWritten(now: startedAt), [])
        XCTAssertEqual(c.tableRead([], listed: nil, now: startedAt), [])
        return c
    }
    func seq(_ n: Int) -> SequenceNumber { SequenceNumber(String(n))! }
    func row(_ id: String, _ owner: String? = nil, counter: Int = 0, parents: [String] = [], finished: Bool = false)
        -> LeaseRow {
        LeaseRow(shardId: id, owner: owner, counter: counter, parents: parents, finished: finished)
    }
    func listing(_ rows: [LeaseRow]) -> [ShardDescriptor] { rows.map { ShardDescriptor(id: $0.shardId, parentId: $0.parents.first) } }
    func takes(_ actions: [Action]) -> [String] {
        actions.compactMap {
            switch $0 {
            case .take(let shard, _, _): return shard
            case .createOwned(let row): return row.shardId
            default: return nil
            }
        }
    }
    func beats(_ actions: [Action]) -> [Action] { actions.filter { if case .heartbeat = $0 { return true }; return false } }
    func writes(_ actions: [Action]) -> [Action] { actions.filter { if case .writeCheckpoint = $0 { return true }; return false } }
    func starts(_ actions: [Action]) -> [Action] { actions.filter { if case .startReading = $0 { return true }; return false } }

    /// Takes unowned `id` at `now` and answers as the table would.
    @discardableResult
    func hold(_ c: inout LeaseCore, _ id: String, checkpoint: SequenceNumber? = nil, at now: Double) -> [Action] {
        let actions = c.tableRead([row(id)], listed: nil, now: now)
        XCTAssertEqual(takes(actions), [id])
        return c.taken(LeaseRow(shardId: id, owner: c.options.workerId, counter: 1, checkpoint: checkpoint), now: now)
    }

    /// A core that started at 0 and beat again at 10: its windows last
    /// until 25 at least.
    func started(_ id: String = "w1") -> LeaseCore {
        var c = core(id, startedAt: 0)
        _ = tickAndBeat(&c, at: 10)
        return c
    }

    /// Ticks at `now`, answering a heartbeat if one goes out; the rest.
    @discardableResult
    func tickAndBeat(_ c: inout LeaseCore, at now: Double, beatSucceeds: Bool = true) -> [Action] {
        let actions = c.tick(now: now)
        var rest = actions.filter { if case .heartbeat = $0 { return false }; return true }
        if !beats(actions).isEmpty { rest += beatSucceeds ? c.heartbeatWritten(now: now) : c.heartbeatFailed(now: now) }
        return rest
    }

    // MARK: - Taking

    func testTake_unownedShards_olderGenerationsFirst_andNoChildOfAnUnfinishedParent() {
        var c = core()
        let rows = [row("p", "w9", finished: true), row("c1", parents: ["p"]), row("z"), row("b"), row("a2", parents: ["b"])]
        let taken = takes(c.tableRead(rows, listed: listing(rows), now: 0))
        XCTAssertEqual(Set(taken.prefix(2)), ["b", "z"])
        XCTAssertEqual(taken.last, "c1", "a child after every shard of the generation before")
        XCTAssertEqual(taken.count, 3, "a2 waits for b")
    }

    func testTake_stopsAtTheFairShare_countingLiveOwners() {
        var c = core()
        let rows = (0..<6).map { row("u\($0)") } + [row("x", "w2", counter: 3), row("y", "w2", counter: 4)]
        // 8 shards, 2 live workers: 4 each.
        let taken = takes(c.tableRead(rows, heartbeats: [LeaseHeartbeat(worker: "w2", counter: 7)], listed: nil, now: 0))
        XCTAssertEqual(taken.count, 4)
        XCTAssertTrue(taken.allSatisfy { $0.hasPrefix("u") })
        XCTAssertEqual(c.share(now: 0), LeaseCore.Share(low: 4, high: 4, workers: 2))
    }

    func testTake_countsEveryWorkerWithAMovingHeartbeat_evenOneHoldingNothingYet() {
        var c = core()
        let rows = (0..<9).map { row("u\($0)") }
        let heartbeats = [LeaseHeartbeat(worker: "w2", counter: 1), LeaseHeartbeat(worker: "w3", counter: 1)]
        XCTAssertEqual(takes(c.tableRead(rows, heartbeats: heartbeats, listed: nil, now: 0)).count, 3, "9 shards, 3 workers")
        XCTAssertEqual(c.share(now: 29).workers, 3)
        XCTAssertEqual(c.share(now: 30).workers, 1, "heartbeats that stood still for a lease are not counted")
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
        XCTAssertEqual(listedParent, [.createOwned(row("gone", "w1", counter: 1))],
                       "listed without a row: its row is created already owned, the child waits")
        c.takeFailed("gone")
        XCTAssertEqual(takes(c.tableRead([child], listed: [ShardDescriptor(id: "c", parentId: "gone")], now: 20)), ["c"],
                       "aged out of the stream: nothing of it is left to read first")
    }

    func testTake_waitsUntilTheOwnersHeartbeatStoodStillForALease_onThisWorkersClock() {
        var c = core()
        func read(_ beat: Int, at now: Double) -> [Action] {
            c.tableRead([row("s", "w2", counter: 5)], heartbeats: [LeaseHeartbeat(worker: "w2", counter: beat)], listed: nil, now: now)
        }
        // Rows carry no times: a first sight starts the lease, whatever the
        // other worker's clock says.
        XCTAssertEqual(takes(read(100, at: 7)), [])
        XCTAssertEqual(takes(read(100, at: 30)), [])
        XCTAssertEqual(takes(read(101, at: 35)), [], "a heartbeat: the wait restarts, though the shard row stood still")
        XCTAssertEqual(takes(read(101, at: 64.9)), [])
        XCTAssertEqual(read(101, at: 65), [.take(shard: "s", expectedOwner: "w2", expectedCounter: 5)])
    }

    func testTake_aLiveOwnersShard_isNeverTakenAsExpired_thoughItsRowNeverChanges() {
        var c = core()
        for round in 0..<20 {
            let actions = c.tableRead([row("s", "w2", counter: 5)], heartbeats: [LeaseHeartbeat(worker: "w2", counter: round)],
                                      listed: nil, now: Double(round) * 10)
            XCTAssertEqual(takes(actions), [], "round \(round)")
        }
    }

    func testTake_aRowWhoseOwnerHasNoHeartbeatRow_expiresByItsOwnCounter() {
        var c = core()
        XCTAssertEqual(takes(c.tableRead([row("s", "w2", counter: 5)], listed: nil, now: 0)), [])
        XCTAssertEqual(takes(c.tableRead([row("s", "w2", counter: 5)], listed: nil, now: 29.9)), [])
        XCTAssertEqual(takes(c.tableRead([row("s", "w2", counter: 5)], listed: nil, now: 30)), ["s"])
    }

    func testRestartedWorker_treatsRowsUnderItsOwnName_likeAnyOther_untilTheyExpire() {
        var c = core()
        XCTAssertEqual(takes(c.tableRead([row("s", "w1", counter: 4)], listed: nil, now: 0)), [],
                       "an earlier process of this name may still be writing")
        _ = tickAndBeat(&c, at: 0)
        XCTAssertEqual(takes(c.tableRead([row("s", "w1", counter: 4)], listed: nil, now: 29)), [],
                       "this worker's own heartbeat does not keep the old row alive, nor does it expire it sooner")
        XCTAssertEqual(takes(c.tableRead([row("s", "w1", counter: 4)], listed: nil, now: 30)), ["s"])
    }

    func testTaken_startsReadingFromTheCheckpointOfTheRowAsWritten() {
        var c = core()
        XCTAssertEqual(hold(&c, "s", checkpoint: seq(42), at: 0), [.startReading(shard: "s", from: seq(42))])
        XCTAssertTrue(c.mayWrite("s", now: 0))
        XCTAssertEqual(c.ownedShards, ["s"])
    }

    func testTakeFailed_isTriedAgainAtTheNextRead_whichComesSooner() {
        var c = core()
        XCTAssertTrue(c.tick(now: 0).contains(.readTable), "the next one is due at 10")
        XCTAssertEqual(takes(c.tableRead([row("s")], listed: nil, now: 0)), ["s"])
        XCTAssertEqual(takes(c.tableRead([row("s")], listed: nil, now: 1)), [], "still in flight")
        c.takeFailed("s")
        XCTAssertFalse(c.tick(now: 1.9).contains(.readTable))
        XCTAssertTrue(c.tick(now: 2).contains(.readTable), "a lost race: the next read comes a second after the last")
        XCTAssertEqual(takes(c.tableRead([row("s")], listed: nil, now: 2)), ["s"])
    }

    // MARK: - Start-up

    func testStartup_takesNothing_untilAReadSentAScanIntervalAfterTheFirstHeartbeat() {
        var options = LeaseCore.Options(workerId: "w1")
        options.heartbeatBase = 0
        var c = LeaseCore(options: options)
        XCTAssertEqual(c.tick(now: 0), [.heartbeat(counter: 1), .readTable], "the heartbeat goes first")
        XCTAssertEqual(c.tableRead([row("s")], listed: nil, now: 0), [], "no heartbeat answered yet")
        _ = c.heartbeatWritten(now: 0.2)
        XCTAssertEqual(c.tableRead([row("s")], listed: nil, now: 9.9), [], "others starting now may not be visible yet")
        XCTAssertEqual(takes(c.tableRead([row("s")], listed: nil, now: 10)), ["s"])
    }

    func testStartup_workersStartingTogether_takeMostlyDifferentShards_andNoMoreThanTheirShare() {
        let shards = (0..<400).map { ShardDescriptor(id: String(format: "shardId-%04d", $0)) }
        let heartbeats = (1...4).map { LeaseHeartbeat(worker: "w\($0)", counter: 1) }
        var claimed: [String: Int] = [:]
        for i in 1...4 {
            var c = core("w\(i)")
            let taken = takes(c.tableRead([], heartbeats: heartbeats, listed: shards, now: 0))
            XCTAssertEqual(taken.count, 100, "w\(i): its fair share, no more")
            for id in taken { claimed[id, default: 0] += 1 }
        }
        let contested = claimed.values.filter { $0 > 1 }.count
        XCTAssertLessThan(contested, 40, "rendezvous hashing keeps most first takes apart (\(contested) of 400 contested)")
        XCTAssertGreaterThan(claimed.count, 360)
    }

    func testCreateOwned_forAListedShardWithoutARow_carriesItsParent_andIsAnsweredLikeATake() {
        var c = core()
        let actions = c.tableRead([row("a", "w2", counter: 1, finished: true)],
                                  listed: [ShardDescriptor(id: "a"), ShardDescriptor(id: "b", parentId: "a")], now: 0)
        XCTAssertEqual(actions, [.createOwned(row("b", "w1", counter: 1, parents: ["a"]))])
        XCTAssertEqual(c.taken(row("b", "w1", counter: 1, parents: ["a"]), now: 0.1), [.startReading(shard: "b", from: nil)])
    }

    // MARK: - Heartbeat and the write window

    func testHeartbeat_everyThirdOfALease_countedFromWhenItWasSent_oneInFlight_andNoShardRowIsWritten() {
        var c = core(startedAt: 0)
        hold(&c, "s", at: 10)
        XCTAssertEqual(beats(c.tick(now: 9.9)), [])
        XCTAssertEqual(c.tick(now: 10), [.heartbeat(counter: 2), .readTable])
        XCTAssertEqual(beats(c.tick(now: 12)), [], "one in flight at a time")
        _ = c.heartbeatWritten(now: 13)
        XCTAssertEqual(beats(c.tick(now: 19.9)), [])
        XCTAssertEqual(c.tick(now: 20), [.heartbeat(counter: 3), .readTable], "nothing for the shard itself")
    }

    func testWriteWindow_endsFifteenSecondsAfterTheLastHeartbeatSent_whenTheStoreIsUnreachable() {
        var c = core(startedAt: 0)
        hold(&c, "s", at: 10)
        XCTAssertEqual(c.options.writeWindow, 15)
        _ = tickAndBeat(&c, at: 10)                      // heartbeat sent at 10, answered
        _ = c.tableRead([row("s", "w1", counter: 1)], listed: nil, now: 12)
        XCTAssertEqual(beats(c.tick(now: 20)), [.heartbeat(counter: 3)])
        XCTAssertEqual(c.heartbeatFailed(now: 21), [])
        XCTAssertEqual(beats(c.tick(now: 22)), [.heartbeat(counter: 4)], "retried after a second")
        _ = c.heartbeatFailed(now: 23)
        _ = c.tableRead([row("s", "w1", counter: 1)], listed: nil, now: 23)
        XCTAssertTrue(c.mayWrite("s", now: 24.99))
        XCTAssertFalse(c.mayWrite("s", now: 25), "a fresh read does not help without a heartbeat")
        let atDeadline = c.tick(now: 25)
        XCTAssertEqual(beats(atDeadline), [.heartbeat(counter: 5)])
        XCTAssertTrue(atDeadline.contains(.stopReading(shard: "s")))
        XCTAssertFalse(c.tick(now: 25.5).contains(.stopReading(shard: "s")), "stopped once")
        // The store answers again and the read at 23 showed the row still
        // ours: reading starts again from the row's checkpoint.
        XCTAssertEqual(c.heartbeatWritten(now: 26), [.startReading(shard: "s", from: nil)])
        XCTAssertTrue(c.mayWrite("s", now: 37.9))
        XCTAssertFalse(c.mayWrite("s", now: 38), "the read at 23 is now the older confirmation")
    }

    func testWriteWindow_endsFifteenSecondsAfterTheLastConfirmingRead_evenWhileHeartbeatsGoThrough() {
        var c = core(startedAt: 0)
        hold(&c, "s", at: 10)
        _ = c.tableRead([row("s", "w1", counter: 1)], listed: nil, now: 20)
        for t in [10.0, 20, 30] { _ = tickAndBeat(&c, at: t) }  // later reads fail (not answered)
        XCTAssertTrue(c.mayWrite("s", now: 34.9))
        XCTAssertFalse(c.mayWrite("s", now: 35), "a steal may have landed just after the read at 20")
        XCTAssertTrue(c.tick(now: 35).contains(.stopReading(shard: "s")))
        XCTAssertEqual(starts(c.tableRead([row("s", "w1", counter: 1)], listed: nil, now: 41)),
                       [.startReading(shard: "s", from: nil)], "confirmed again: it starts again")
    }

    func testAWorkerWhoseReadsFail_stopsItsHeartbeatAfterAWindow_soItsShardsExpireForTheOthers() {
        var c = core(startedAt: 0)
        hold(&c, "s", at: 10)
        XCTAssertEqual(beats(c.tick(now: 10)), [.heartbeat(counter: 2)])
        _ = c.heartbeatWritten(now: 10)
        XCTAssertEqual(beats(c.tick(now: 20)), [.heartbeat(counter: 3)], "the read at 10 is recent")
        _ = c.heartbeatWritten(now: 20)
        let late = c.tick(now: 30)
        XCTAssertEqual(beats(late), [], "no read answered since 10: no heartbeat either")
        XCTAssertTrue(c.tick(now: 30).isEmpty || !c.mayWrite("s", now: 30))
        XCTAssertFalse(c.mayWrite("s", now: 25))
        _ = c.tableRead([row("s", "w1", counter: 1)], listed: nil, now: 31)
        XCTAssertEqual(beats(c.tick(now: 31)), [.heartbeat(counter: 4)], "reads are back: so is the heartbeat")
    }

    func testARead_showingAnotherOwnerOrCounter_stopsTheShardAtOnce() {
        var c = core()
        XCTAssertEqual(takes(c.tableRead([row("s"), row("t")], listed: nil, now: 0)).sorted(), ["s", "t"])
        for id in ["s", "t"] { _ = c.taken(row(id, "w1", counter: 1), now: 0) }
        let actions = c.tableRead([row("s", "w2", counter: 2), row("t", "w1", counter: 5)], listed: nil, now: 5)
        XCTAssertTrue(actions.contains(.stopReading(shard: "s")))
        XCTAssertTrue(actions.contains(.stopReading(shard: "t")), "another process under this name took it")
        XCTAssertFalse(c.mayWrite("s", now: 5))
        XCTAssertEqual(c.ownedShards, [])
        XCTAssertEqual(c.leasesLost, 2)
    }

    func testWriteWindow_countsFromWhenTheHeartbeatWasSent_notWhenItWasAnswered() {
        var c = core(startedAt: 0)
        hold(&c, "s", at: 10)
        _ = c.tick(now: 10)
        _ = c.heartbeatWritten(now: 14)
        _ = c.tableRead([row("s", "w1", counter: 1)], listed: nil, now: 20)
        XCTAssertTrue(c.mayWrite("s", now: 24.9))
        XCTAssertFalse(c.mayWrite("s", now: 25), "the heartbeat may have landed at 10: a taker may count from then")
    }

    func testOptions_refuseALeaseTooShortForTheRequestTimeout_orReadsTooRare() {
        XCTAssertNil(LeaseCore.Options(workerId: "w1").validate())
        var tight = LeaseCore.Options(workerId: "w1")
        tight.requestTimeout = 10
        XCTAssertNotNil(tight.validate(), "a 10 s window closes as each heartbeat goes out")
        var rare = LeaseCore.Options(workerId: "w1")
        rare.scanInterval = 12
        XCTAssertNotNil(rare.validate(), "a read confirms leases: it must come every third of a lease")
        XCTAssertNotNil(LeaseCore.Options(workerId: "a#b").validate(), "# marks heartbeat rows")
    }

    // MARK: - Balancing

    func testSteal_fromTheBusiestLiveWorker_oneShardAtATime_andReadingWaitsOutTheOldHolder() {
        var c = core()
        var rows = ["a", "b", "c", "d"].map { row($0, "w2", counter: 1) } + ["e", "f"].map { row($0, "w3", counter: 1) }
        func heartbeats(_ n: Int) -> [LeaseHeartbeat] { [LeaseHeartbeat(worker: "w2", counter: n), LeaseHeartbeat(worker: "w3", counter: n)] }
        // 6 shards, 3 workers: 2 each. w2 holds 4.
        XCTAssertEqual(c.tableRead(rows, heartbeats: heartbeats(1), listed: nil, now: 0),
                       [.take(shard: "d", expectedOwner: "w2", expectedCounter: 1)])
        XCTAssertEqual(c.taken(row("d", "w1", counter: 2), now: 0.5), [], "w2 may still be writing d")
        XCTAssertFalse(c.mayWrite("d", now: 1))
        rows[3] = row("d", "w1", counter: 2)
        XCTAssertEqual(takes(c.tableRead(rows, heartbeats: heartbeats(2), listed: nil, now: 10)), [], "one steal per lease")
        for t in [0.0, 10, 20] { _ = tickAndBeat(&c, at: t) }
        _ = c.tableRead(rows, heartbeats: heartbeats(3), listed: nil, now: 28)
        _ = tickAndBeat(&c, at: 30)
        XCTAssertFalse(c.tick(now: 30.4).contains { if case .startReading = $0 { return true }; return false })
        XCTAssertTrue(c.tick(now: 30.5).contains(.startReading(shard: "d", from: nil)))
        XCTAssertEqual(takes(c.tableRead(rows, heartbeats: heartbeats(4), listed: nil, now: 31)), ["c"],
                       "w2 still holds 3, two more than 1")
    }

    func testSteal_needsTheVictimToHoldTwoMore_soNoShardIsStolenBack() {
        var c = core()
        hold(&c, "a", at: 0)
        let mine = [row("a", "w1", counter: 1)]
        for round in 0..<20 {
            let now = Double(round) * 10
            let others = ["x", "y"].map { row($0, "w2", counter: 1) }
            XCTAssertEqual(takes(c.tableRead(mine + others, heartbeats: [LeaseHeartbeat(worker: "w2", counter: round)],
                                             listed: nil, now: now)), [], "1 against 2 is even enough")
            _ = tickAndBeat(&c, at: now)
        }
        XCTAssertTrue(c.mayWrite("a", now: 195), "held all along")
    }

    func testSurplus_isReleasedOneAtATime_afterItsReadingStops_withItsAppliedCheckpoint() {
        var c = core()
        let ids = ["a", "b", "c", "d", "e"]
        XCTAssertEqual(Set(takes(c.tableRead(ids.map { row($0) }, listed: nil, now: 0))), Set(ids), "alone: all of them")
        for id in ids { _ = c.taken(row(id, "w1", counter: 1), now: 0) }
        c.checkpointMoved("e", to: seq(7))
        let rows = ids.map { row($0, "w1", counter: 1) } + [row("x", "w2", counter: 1)]
        let w2 = [LeaseHeartbeat(worker: "w2", counter: 1)]
        // 6 shards, 2 workers: 3 each; this worker holds 5.
        XCTAssertEqual(c.tableRead(rows, heartbeats: w2, listed: nil, now: 1),
                       [.stopReading(shard: "e"), .release(shard: "e", expectedCounter: 1, checkpoint: seq(7))])
        XCTAssertEqual(c.tableRead(rows, heartbeats: w2, listed: nil, now: 5), [], "at most one per read interval")
        XCTAssertEqual(c.tableRead(rows, heartbeats: w2, listed: nil, now: 11),
                       [.stopReading(shard: "d"), .release(shard: "d", expectedCounter: 1, checkpoint: nil)])
        XCTAssertEqual(c.ownedShards, ["a", "b", "c"])
    }

    func testSurplusRelease_withACheckpointWriteInFlight_stopsAtOnce_butReleasesOnlyAfterTheAnswer() {
        var c = started()
        let ids = ["a", "b", "c", "d", "e"]
        _ = c.tableRead(ids.map { row($0) }, listed: nil, now: 10)
        for id in ids { _ = c.taken(row(id, "w1", counter: 1), now: 10) }
        c.checkpointMoved("e", to: seq(3))
        XCTAssertEqual(writes(tickAndBeat(&c, at: 20)), [.writeCheckpoint(shard: "e", sequence: seq(3), finished: false)])
        c.checkpointMoved("e", to: seq(4))
        let rows = ids.map { row($0, "w1", counter: 1) } + [row("x", "w2", counter: 1)]
        XCTAssertEqual(c.tableRead(rows, heartbeats: [LeaseHeartbeat(worker: "w2", counter: 1)], listed: nil, now: 20),
                       [.stopReading(shard: "e")], "the release waits for the checkpoint write")
        XCTAssertFalse(c.mayWrite("e", now: 20))
        c.checkpointWritten("e")
        XCTAssertEqual(c.tick(now: 21).filter { if case .release = $0 { return true }; return false },
                       [.release(shard: "e", expectedCounter: 1, checkpoint: seq(4))])
        XCTAssertFalse(c.ownedShards.contains("e"))
    }

    // MARK: - Checkpoints

    func testCheckpoint_writtenOnlyWhenItMoved_atMostOncePerInterval_theFirstOneSpreadOverTheIntervalAfterTheTake() {
        var c = core()
        hold(&c, "s", checkpoint: seq(10), at: 0)
        let first = c.held["s"]!.nextCheckpointAt
        XCTAssertGreaterThanOrEqual(first, 5)
        XCTAssertLessThan(first, 10)
        XCTAssertEqual(writes(tickAndBeat(&c, at: 1)), [], "not moved")
        c.checkpointMoved("s", to: seq(11))
        XCTAssertEqual(writes(c.tick(now: first - 0.1)), [], "the row holds what reading started from")
        XCTAssertEqual(writes(c.tick(now: first)), [.writeCheckpoint(shard: "s", sequence: seq(11), finished: false)])
        c.checkpointWritten("s")
        c.checkpointMoved("s", to: seq(12))
        XCTAssertEqual(writes(c.tick(now: first + 4.9)), [])
        XCTAssertEqual(writes(c.tick(now: first + 5)), [.writeCheckpoint(shard: "s", sequence: seq(12), finished: false)])
        c.checkpointWritten("s")
        c.checkpointMoved("s", to: seq(9))
        XCTAssertEqual(writes(tickAndBeat(&c, at: 14)), [], "never backwards")
    }

    func testCheckpointInterval_growsWithTheShardsHeld_soAWorkerWritesAboutFiveASecond() {
        var c = core()
        XCTAssertEqual(c.checkpointEvery, 5)
        let ids = (0..<500).map { "s\($0)" }
        XCTAssertEqual(takes(c.tableRead(ids.map { row($0) }, listed: nil, now: 0)).count, 500)
        for id in ids { _ = c.taken(row(id, "w1", counter: 1), now: 0) }
        XCTAssertEqual(c.checkpointEvery, 100)
        var written = 0
        var now = 0.0
        while now < 400 {
            now += 0.5
            for id in ids { c.checkpointMoved(id, to: seq(Int(now * 10))) }
            let w = writes(tickAndBeat(&c, at: now))
            for case .writeCheckpoint(let id, _, _) in w { c.checkpointWritten(id) }
            written += w.count
            if now.truncatingRemainder(dividingBy: 10) == 0 {
                _ = c.tableRead(ids.map { row($0, "w1", counter: 1) }, listed: nil, now: now)
            }
        }
        XCTAssertGreaterThan(written, 1_000, "every shard moved: each written every 100 s after its first interval")
        XCTAssertLessThanOrEqual(written, 2_000, "at most 5 a second over 400 s")
    }

    func testCheckpointAnsweredAfterTheWindowClosed_isWhereReadingStartsAgain_andNothingOlderIsWritten() {
        var c = started()
        hold(&c, "s", at: 10)
        c.checkpointMoved("s", to: seq(5))
        let first = c.held["s"]!.nextCheckpointAt
        XCTAssertEqual(writes(c.tick(now: first)), [.writeCheckpoint(shard: "s", sequence: seq(5), finished: false)])
        _ = tickAndBeat(&c, at: 20, beatSucceeds: false)
        _ = c.tableRead([row("s", "w1", counter: 1)], listed: nil, now: 22)
        XCTAssertTrue(c.tick(now: 25).contains(.stopReading(shard: "s")), "the heartbeat sent at 10 ran out")
        c.checkpointWritten("s")
        XCTAssertEqual(c.heartbeatWritten(now: 26), [.startReading(shard: "s", from: seq(5))],
                       "the heartbeat sent at 25 and the read at 22: a new window, from what the row says")
        XCTAssertEqual(writes(c.tick(now: 39)), [], "the row already says 5")
    }

    func testCheckpointRejected_becauseTheRowHasAnotherOwner_stopsReadingAtOnce() {
        var c = started()
        hold(&c, "s", at: 10)
        c.checkpointMoved("s", to: seq(3))
        XCTAssertEqual(writes(c.tick(now: 20)).count, 1)
        XCTAssertEqual(c.checkpointFailed("s", conditionFailed: true), [.stopReading(shard: "s")])
        XCTAssertEqual(c.ownedShards, [])
    }

    func testFinishedShard_isWrittenAtOnce_thenLetGo_andItsChildBecomesTakeable() {
        var c = core()
        hold(&c, "p", at: 0)
        c.checkpointMoved("p", to: seq(5))
        c.shardFinished("p")
        XCTAssertEqual(writes(c.tick(now: 0.5)), [.writeCheckpoint(shard: "p", sequence: seq(5), finished: true)],
                       "no interval for the finished flag: children wait for it")
        c.checkpointWritten("p")
        XCTAssertEqual(c.ownedShards, [])
        let rows = [LeaseRow(shardId: "p", owner: "w1", counter: 1, checkpoint: seq(5), finished: true), row("c", parents: ["p"])]
        XCTAssertEqual(takes(c.tableRead(rows, listed: nil, now: 1)), ["c"])
    }

    // MARK: - Rows

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

    func testStaleHeartbeat_ofAWorkerGoneForTenLeases_isDeletedIfItsCounterStillStands() {
        var c = core()
        let dead = [LeaseHeartbeat(worker: "w2", counter: 9)]
        XCTAssertEqual(c.tableRead([], heartbeats: dead, listed: nil, now: 0), [])
        XCTAssertEqual(c.tableRead([], heartbeats: dead, listed: nil, now: 299), [])
        XCTAssertEqual(c.tableRead([], heartbeats: [LeaseHeartbeat(worker: "w2", counter: 10)], listed: nil, now: 299.5), [],
                       "it moved: another ten leases")
        XCTAssertEqual(c.tableRead([], heartbeats: [LeaseHeartbeat(worker: "w2", counter: 10)], listed: nil, now: 599.5),
                       [.deleteHeartbeat(worker: "w2", expectedCounter: 10)])
        XCTAssertEqual(c.tableRead([], heartbeats: [LeaseHeartbeat(worker: "w1", counter: 1)], listed: nil, now: 900), [],
                       "never its own")
    }

    func testRelinquishAll_stopsEachShardThenReleasesIt_takesNothingMore_andFinallyDeletesItsHeartbeat() {
        var c = core()
        hold(&c, "s", at: 0)
        c.checkpointMoved("s", to: seq(4))
        XCTAssertEqual(c.relinquishAll(), [.stopReading(shard: "s"), .release(shard: "s", expectedCounter: 1, checkpoint: seq(4))])
        XCTAssertEqual(c.tableRead([row("s"), row("t")], listed: nil, now: 1), [])
        XCTAssertEqual(c.tick(now: 20), [], "no heartbeat, no read")
        XCTAssertEqual(c.retireHeartbeat(), [.deleteHeartbeat(worker: "w1", expectedCounter: nil)])
        XCTAssertEqual(c.retireHeartbeat(), [], "once")
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
            _ = c.tableRead([row("p", "w2", counter: 1), row("c", parents: ["p"])],
                            heartbeats: [LeaseHeartbeat(worker: "w2", counter: round)], listed: nil, now: Double(round) * 10)
        }
        XCTAssertEqual(c.health(now: 100), LeaseHealth(healthy: true))
    }

    func testHealth_healthy_withMoreWorkersThanShards() {
        var c = core()
        for round in 0..<10 {
            _ = c.tableRead([row("a", "w2", counter: 1), row("b", "w3", counter: 1)],
                            heartbeats: [LeaseHeartbeat(worker: "w2", counter: round), LeaseHeartbeat(worker: "w3", counter: round)],
                            listed: nil, now: Double(round) * 10)
        }
        XCTAssertEqual(c.share(now: 95).high, 1)
        XCTAssertEqual(c.health(now: 95), LeaseHealth(healthy: true))
    }
}
