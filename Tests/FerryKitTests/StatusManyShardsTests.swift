@testable import FerryKit
import Foundation
import Replication
import XCTest

/// `ferry status`, `ferry health` and the metrics with thousands of shards.
final class StatusManyShardsTests: XCTestCase {
    private func report(shards: Int) -> StatusReport {
        var r = StatusReport(version: "t", pid: 7, writtenAt: Date(), phase: .streaming)
        let states: [ShardPhase] = [.reading, .reading, .reading, .finished, .waiting]
        for i in 0..<shards {
            r.shards.append(StatusReport.Shard(id: String(format: "shardId-%05d", i), parent: nil, state: states[i % 5],
                                               lastSequenceApplied: nil, recordsApplied: i, lagSeconds: Double(i % 97),
                                               caughtUp: states[i % 5] == .reading ? i % 2 == 0 : nil))
        }
        r.lagSeconds = 96
        r.threads = 14
        r.threadBound = 20
        return r
    }

    func testStatus_withFiveThousandShards_showsTotalsPerStateAndTheTwentyWithTheMostLag() {
        let text = StatusPrinter.render(report(shards: 5000), now: Date())
        XCTAssertTrue(text.contains("shards: 5000 (waiting 1000, reading 3000, finished 1000), caught up 1500"), text)
        XCTAssertTrue(text.contains("the 20 shards with the most lag"), text)
        XCTAssertTrue(text.contains("threads: 14 (bound 20)"), text)
        let shardLines = text.split(separator: "\n").filter { $0.hasPrefix("shardId-") }
        XCTAssertEqual(shardLines.count, 20)
        XCTAssertTrue(shardLines.allSatisfy { $0.contains(" 96.0 ") }, "the shards with the most lag come first: \(shardLines)")
    }

    func testStatus_withAFewShards_listsThemAll() {
        let text = StatusPrinter.render(report(shards: 3), now: Date())
        XCTAssertEqual(text.split(separator: "\n").filter { $0.hasPrefix("shardId-") }.count, 3)
        XCTAssertFalse(text.contains("the 20 shards"))
    }

    func testMetrics_stayBoundedWhateverTheShardCount() {
        let small = MetricsFile.render(report(shards: 10)).split(separator: "\n").count
        let large = MetricsFile.render(report(shards: 5000)).split(separator: "\n").count
        XCTAssertEqual(small, large, "one series per shard would grow with the shards")
        let text = MetricsFile.render(report(shards: 5000))
        XCTAssertTrue(text.contains("ferry_shard_lag_seconds_bucket{le=\"+Inf\"} 5000"), text)
        XCTAssertTrue(text.contains("ferry_shard_lag_seconds_bucket{le=\"60\"} "), text)
        XCTAssertTrue(text.contains("ferry_shards{state=\"reading\"} 3000"), text)
        XCTAssertTrue(text.contains("ferry_threads 14"), text)
    }

    func testHealth_failsWhileStalled_andRecoversWhenItMovesAgain() throws {
        let dir = NSTemporaryDirectory() + "ferry-health-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var r = report(shards: 30)
        r.stalled = "nothing has moved for 121 s while changes wait"
        try r.write(to: dir + "/status.json")
        let stalled = HealthCheck.judge(path: dir + "/status.json", now: Date(), maxAge: 30)
        XCTAssertFalse(stalled.healthy)
        XCTAssertTrue(stalled.message.contains("stalled"), stalled.message)
        r.stalled = nil
        try r.write(to: dir + "/status.json")
        XCTAssertTrue(HealthCheck.judge(path: dir + "/status.json", now: Date(), maxAge: 30).healthy)
    }

    func testLeases_inTheStatus_theMetrics_andHealth() throws {
        var r = report(shards: 4)
        r.leases = StatusReport.Leases(worker: "host-a:12", held: 7, taken: 9, lost: 2, shareLow: 7, shareHigh: 8, workers: 4,
                                       unhealthy: nil)
        let text = StatusPrinter.render(r, now: Date())
        XCTAssertTrue(text.contains("leases: worker host-a:12 holds 7 (fair share 7-8 over 4 workers), taken 9, lost 2"), text)
        let metrics = MetricsFile.render(r)
        XCTAssertTrue(metrics.contains("ferry_leases_held 7") && metrics.contains("ferry_leases_lost_total 2"), metrics)
        let dir = NSTemporaryDirectory() + "ferry-health-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try r.write(to: dir + "/status.json")
        XCTAssertTrue(HealthCheck.judge(path: dir + "/status.json", now: Date(), maxAge: 30).healthy)
        r.leases?.unhealthy = "3 takeable shards unowned for more than two leases"
        try r.write(to: dir + "/status.json")
        let verdict = HealthCheck.judge(path: dir + "/status.json", now: Date(), maxAge: 30)
        XCTAssertFalse(verdict.healthy)
        XCTAssertTrue(verdict.message.contains("takeable shards unowned"), verdict.message)
    }
}
