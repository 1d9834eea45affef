import AWSClient
import DynamoModel
import Foundation
import Replication
import StreamStandIn
import XCTest

/// The `ferry` binary on a stream of 5,000 open shards: it converges, its
/// threads stay under the bound it announces, and SIGTERM ends it cleanly
/// within the drain deadline.
final class ManyShardsBinaryTests: XCTestCase {
    func testFiveThousandShards_twentyThousandWrites_converge_andSIGTERMExitsZeroWithinTheDeadline() throws {
        let standIn = try StreamStandIn()
        defer { standIn.stop() }
        _ = try standIn.createTable(StandInTableSpec("src", stream: .newAndOldImages, shardCount: 5000))
        _ = try standIn.createTable(StandInTableSpec("dst", stream: nil))
        let dir = NSTemporaryDirectory() + "ferry-shards-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let config = dir + "/ferry.yaml"
        try """
            source: {table: src, region: us-east-1, endpoint: "\(standIn.baseURL)", access_key_id: AKIDTEST, secret_access_key: shards-test-secret}
            target: {endpoints: ["\(standIn.baseURL)"], table: dst, region: us-east-1}
            stream: {readers: 4, writers: 4, lanes: 64, batch_size: 25, max_polls_per_second: 3000, idle_backoff_max_ms: 300,
                     drain_deadline_seconds: 20}
            state: {checkpoint: \(dir)/checkpoint.json, status: \(dir)/status.json, dead_letter: \(dir)/dead.jsonl}
            """.write(toFile: config, atomically: true, encoding: .utf8)

        let log = dir + "/ferry.log"
        let process = try MotoKillTests.launch(["stream", "--config", config], log: log)
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }

        // 20,000 writes while it runs: puts over 8,000 keys, then overwrites and deletes.
        for round in 0..<10 {
            let items: [Item] = (0..<1600).map { i in
                let n = round * 800 + i
                return ["pk": .s("key-\(n % 8000)-spread-over-the-key-hashes"), "v": .n(String(round)), "pad": .s("x-\(n)")]
            }
            try standIn.put(table: "src", items: items)
            try standIn.delete(table: "src", keys: (0..<400).map { ["pk": .s("key-\((round * 797 + $0 * 13) % 8000)-spread-over-the-key-hashes")] })
        }
        let deadline = Date().addingTimeInterval(400)
        var converged = false
        var peakThreads = 0
        while Date() < deadline {
            if let status = try? StatusReport.read(path: dir + "/status.json") { peakThreads = max(peakThreads, status.threads ?? 0) }
            if try standIn.compareTables("src", "dst").isIdentical { converged = true; break }
            Thread.sleep(forTimeInterval: 1)
        }
        let logText = { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }
        let difference = (try? standIn.compareTables("src", "dst")).map { "\($0)" } ?? "?"
        XCTAssertTrue(converged, "did not converge: \(difference)\n\(logText().suffix(2000))")
        Thread.sleep(forTimeInterval: 2)  // a status file written after convergence
        let status = try XCTUnwrap(StatusReport.read(path: dir + "/status.json"))
        XCTAssertEqual(status.shards.count, 5000)
        XCTAssertTrue(status.gaps.isEmpty)
        let bound = try XCTUnwrap(status.threadBound)
        XCTAssertEqual(bound, StreamReplicator.threadBound(readers: 4, writers: 4))
        XCTAssertLessThanOrEqual(max(peakThreads, status.threads ?? 0), bound, "threads at 5,000 shards")
        XCTAssertTrue(logText().contains("thread_bound=\(bound)"), "the bound is printed at start")

        let stopAsked = Date()
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        let took = Date().timeIntervalSince(stopAsked)
        XCTAssertEqual(process.terminationStatus, 0, logText().suffix(2000).description)
        XCTAssertLessThan(took, 20, "SIGTERM must end the run within the drain deadline")
        let checkpoint = try XCTUnwrap(FileCheckpointStore(path: dir + "/checkpoint.json").load())
        let written = try standIn.shards(table: "src").filter { $0.recordCount > 0 }.map(\.id)
        XCTAssertGreaterThan(written.count, 1000, "the writes must spread over the shards for this test to mean anything")
        XCTAssertEqual(Set(checkpoint.shards.keys), Set(written), "every shard that had records has its checkpoint")
    }
}
