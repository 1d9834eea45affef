import AWSClient
import DynamoModel
import Foundation
@testable import Replication
import StreamStandIn
import Synchronization
import XCTest

/// Thousands of shards on a fixed number of threads.
final class StreamScaleTests: XCTestCase {
    private func converge(shards: Int, items: Int, splits: Int) throws -> (peak: Int, status: StatusReport) {
        let h = try StreamHarness(shards: shards)
        defer { h.close() }
        try h.put((0..<items / 2).map { streamItem(spreadKey($0), v: 1) })
        var status: StatusReport?
        let peak = try ProcessThreads.peak {
            let run = try h.start(h.options {
                $0.readers = 4
                $0.maxPollsPerSecond = 20_000
                $0.idleBackoffMax = 0.5
                $0.getRecordsLimit = 100
                $0.discoveryInterval = 0.5
            }, pool: h.poolOptions { $0.lanes = 256; $0.writers = 4; $0.laneCapacity = 256; $0.batchSize = 25 })
            // While it runs: split some shards, and write to every key again, and to new ones.
            let open = try h.standIn.openShardIDs(table: StreamHarness.source)
            for shard in open.prefix(splits) { _ = try h.standIn.splitShard(shard) }
            try h.put((0..<items).map { streamItem(spreadKey($0), v: 2) })
            try h.delete(stride(from: 0, to: items, by: 9).map { spreadKey($0) })
            try h.waitForTargetToEqualSource(timeout: 120)
            XCTAssertEqual(run.stop(), .stopped)
            status = try h.status()
        }
        return (peak, try XCTUnwrap(status))
    }

    func testTwoThousandShards_withSplits_converge_onAsManyThreadsAsTen() throws {
        let small = try converge(shards: 10, items: 200, splits: 3)
        let large = try converge(shards: 2000, items: 6000, splits: 200)
        XCTAssertEqual(large.status.shards.count, 2000 + 200 * 2)
        XCTAssertTrue(large.status.gaps.isEmpty)
        let bound = try XCTUnwrap(large.status.threadBound)
        XCTAssertEqual(bound, StreamReplicator.threadBound(readers: 4, writers: 4))
        // The test process's own threads (XCTest, the stand-in's server,
        // threads left by earlier tests) come on top of Ferry's; what
        // matters is that 2,000 shards add none to what 10 shards need.
        XCTAssertLessThanOrEqual(large.peak, small.peak + 2,
                                 "threads: \(small.peak) at 10 shards, \(large.peak) at 2,000")
        print("peak threads: \(small.peak) at 10 shards, \(large.peak) at 2,000 shards (bound for Ferry's own: \(bound))")
    }
}

/// Liveness: a stuck start is visible, a stall is declared.
final class StreamLivenessTests: XCTestCase {
    func testStatusFile_isWrittenFromTheFirstSecond_evenBeforeAnyShardIsListed() throws {
        let h = try StreamHarness(shards: 3)
        defer { h.close() }
        h.standIn.inject(StandInFault(.delay(seconds: 3), on: [.describeStream]))
        let started = Date()
        let run = try h.start()
        XCTAssertTrue(h.eventually(timeout: 1) { (try? h.status()) != nil }, "no status file within a second")
        let status = try XCTUnwrap(h.status())
        XCTAssertEqual(status.phase, .starting, "nothing listed yet")
        XCTAssertLessThan(Date().timeIntervalSince(started), 2.5)
        XCTAssertEqual(run.stop(), .stopped)
    }

    func testTargetThatAcceptsNothing_isDeclaredStalled_inTheStatusFile() throws {
        let h = try StreamHarness(shards: 1)
        defer { h.close() }
        try h.put((0..<20).map { streamItem("k\($0)", v: 1) })
        h.standIn.inject(StandInFault(.internalError, on: [.batchWriteItem]))
        let run = try h.start(h.options { $0.stallSeconds = 1 })
        XCTAssertTrue(h.eventually(timeout: 10) { (try? h.status())?.stalled != nil }, "no stall declared")
        h.standIn.removeAllFaults()
        XCTAssertTrue(h.eventually(timeout: 10) { (try? h.status())?.stalled == nil }, "the stall did not clear")
        try h.waitForTargetToEqualSource()
        XCTAssertEqual(run.stop(), .stopped)
    }
}

/// Giving one shard up (its lease went elsewhere) while the others go on.
final class StreamShardStopTests: XCTestCase {
    func testStoppingOneShard_stopsItsPolls_andCancelsItsQueuedChanges_whileTheOtherShardGoesOn() throws {
        let h = try StreamHarness(shards: 2)
        defer { h.close() }
        let run = try h.start()
        let shards = try h.standIn.openShardIDs(table: StreamHarness.source)
        XCTAssertTrue(h.eventually { (try? h.status())?.shards.filter { $0.caughtUp == true }.count == 2 })
        let (kept, stopped) = (shards[0], shards[1])
        run.replicator.poller.stop(shard: stopped)
        XCTAssertEqual(run.replicator.pool.cancel(source: stopped), 0, "nothing of it was queued")
        // Keys for each shard, written after the stop.
        var keys: [String: [String]] = [:]
        for i in 0..<200 where keys.values.map(\.count).min() ?? 0 < 20 {
            let key = spreadKey(i)
            let shard = try h.standIn.shardID(forKey: ["pk": .s(key)], table: StreamHarness.source)
            keys[shard, default: []].append(key)
        }
        XCTAssertFalse(keys[stopped, default: []].isEmpty || keys[kept, default: []].isEmpty, "keys for both shards")
        try h.put((keys[kept] ?? []).map { streamItem($0, v: 1) } + (keys[stopped] ?? []).map { streamItem($0, v: 1) })
        XCTAssertTrue(h.eventually { (try? h.targetVersions(of: keys[kept]!.last!)) == [1] }, "the kept shard goes on")
        usleep(300_000)
        for key in keys[stopped] ?? [] {
            XCTAssertEqual(try h.targetVersions(of: key), [], "\(key) belongs to the stopped shard")
        }
        XCTAssertEqual(run.stop(), .stopped)
    }
}
