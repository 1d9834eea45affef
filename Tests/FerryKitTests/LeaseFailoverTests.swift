import AWSClient
import DynamoModel
import Foundation
import Replication
import StreamStandIn
import XCTest

/// Several `ferry stream` processes sharing one stream through a lease
/// table in moto; the stand-in is the stream and the target.
final class LeaseFailoverTests: XCTestCase {
    private struct Setup {
        let standIn: StreamStandIn
        let dir: String
        let leases: LeaseTable
        let table: String
    }

    private func setUp(shards: Int) throws -> Setup {
        let moto = try MotoStreamTests.motoURL()
        let standIn = try StreamStandIn()
        let arn = try XCTUnwrap(try standIn.createTable(StandInTableSpec("src", stream: .newAndOldImages, shardCount: shards)))
        _ = try standIn.createTable(StandInTableSpec("dst", stream: nil))
        let dir = NSTemporaryDirectory() + "ferry-lease-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let table = "leases-\(UUID().uuidString.prefix(8))"
        let client = DynamoDBClient(endpoint: Endpoint(url: moto, region: "us-east-1", service: .dynamodb, isCustom: true),
                                    credentials: StaticCredentialProvider(accessKeyId: "AKIDLEASE", secretAccessKey: "lease-test"),
                                    transport: CurlHTTPClient())
        return Setup(standIn: standIn, dir: dir, leases: LeaseTable(client: client, table: table, streamArn: arn, workerId: "test"),
                     table: table)
    }

    private func startWorker(_ s: Setup, _ name: String, mode: String = "lease") throws -> Process {
        let config = s.dir + "/\(name).yaml"
        try """
            source: {stream_arn: "\(s.leases.streamArn)", region: us-east-1, endpoint: "\(s.leases.client.json.endpoint.url)",
                     streams_endpoint: "\(s.standIn.baseURL)", access_key_id: AKIDLEASE, secret_access_key: lease-test}
            target: {endpoints: ["\(s.standIn.baseURL)"], table: dst, region: us-east-1}
            stream: {idle_backoff_max_ms: 200, drain_deadline_seconds: 10}
            coordination: {mode: \(mode), store: source, table: \(s.table), worker_id: \(name), lease_seconds: 6}
            state: {status: \(s.dir)/\(name)-status.json, dead_letter: \(s.dir)/\(name)-dead.jsonl, checkpoint: \(s.dir)/checkpoint.json}
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try MotoKillTests.ferryBinary())
        process.arguments = ["stream", "--config", config]
        let log = s.dir + "/\(name).log"
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.standardOutput = process.standardError
        process.environment = ["PATH": "/usr/bin:/bin", "HOME": NSTemporaryDirectory()]
        try process.run()
        return process
    }

    private func owners(_ s: Setup) -> [String: Int] {
        var count: [String: Int] = [:]
        for row in (try? s.leases.readAll()) ?? [] where !row.finished { count[row.owner ?? "-", default: 0] += 1 }
        return count
    }

    private func eventually(_ seconds: Double, _ condition: () throws -> Bool) rethrows -> Bool {
        let end = Date().addingTimeInterval(seconds)
        while Date() < end {
            if try condition() { return true }
            Thread.sleep(forTimeInterval: 0.25)
        }
        return try condition()
    }

    private func log(_ s: Setup, _ name: String) -> String {
        String((try? String(contentsOfFile: s.dir + "/\(name).log", encoding: .utf8))?.suffix(3000) ?? "")
    }

    func testThreeWorkers_splitTheShards_andWhenOneIsKilled_theOthersTakeItsShards_andTheTargetConverges() throws {
        let s = try setUp(shards: 30)
        defer { s.standIn.stop(); if ProcessInfo.processInfo.environment["FERRY_KEEP"] == nil { try? FileManager.default.removeItem(atPath: s.dir) } }
        let workers = try ["w1", "w2", "w3"].map { try startWorker(s, $0) }
        defer { for w in workers where w.isRunning { kill(w.processIdentifier, SIGKILL) } }

        func write(_ round: Int) throws {
            try s.standIn.put(table: "src", items: (0..<300).map {
                ["pk": .s("key-\($0)-spread-over-the-key-hashes"), "v": .n(String(round))]
            })
        }
        try write(1)
        let split = eventually(60) {
            let o = owners(s)
            return o["-"] == nil && o.values.reduce(0, +) == 30 && o.count == 3 && (o.values.max()! - o.values.min()! <= 1)
        }
        XCTAssertTrue(split, "no even split: \(owners(s))\n\(log(s, "w1"))")

        kill(workers[0].processIdentifier, SIGKILL)
        let killedAt = Date()
        try write(2)
        let takenOver = eventually(60) {
            let o = owners(s)
            return o["w1"] == nil && o["-"] == nil && o.values.reduce(0, +) == 30
        }
        XCTAssertTrue(takenOver, "w1's shards were not taken over: \(owners(s))\n\(log(s, "w2"))")
        // lease_seconds (6) plus a table read and a poll or two.
        XCTAssertLessThan(Date().timeIntervalSince(killedAt), 20, "failover took too long")
        let rebalanced = eventually(60) {
            let o = owners(s)
            return o.count == 2 && o.values.reduce(0, +) == 30 && o.values.max()! - o.values.min()! <= 1
        }
        XCTAssertTrue(rebalanced, "the two left did not even out: \(owners(s))")
        // The status file is rewritten every second.
        XCTAssertTrue(eventually(5) { (try? StatusReport.read(path: s.dir + "/w2-status.json"))??.leases?.held == owners(s)["w2"] },
                      "w2's status file does not show the leases it holds")
        let w2 = try XCTUnwrap(StatusReport.read(path: s.dir + "/w2-status.json")?.leases)
        XCTAssertEqual(w2.worker, "w2")
        XCTAssertGreaterThan(w2.taken, w2.held - 1, "its shards were taken by it")
        let converged = eventually(60) { (try? s.standIn.compareTables("src", "dst").isIdentical) == true }
        XCTAssertTrue(converged, "target differs: \((try? s.standIn.compareTables("src", "dst")).map { "\($0)" } ?? "?")")

        for w in workers.dropFirst() { kill(w.processIdentifier, SIGTERM) }
        for w in workers.dropFirst() { w.waitUntilExit(); XCTAssertEqual(w.terminationStatus, 0, log(s, "w2")) }
        XCTAssertEqual(owners(s)["-"], 30, "a clean stop gives every lease up: \(owners(s))")
    }

    func testSwitchingFromFileMode_importsTheCheckpointFileOnce_soNothingIsReplayedFromTheStart() throws {
        let s = try setUp(shards: 4)
        defer { s.standIn.stop(); try? FileManager.default.removeItem(atPath: s.dir) }
        try s.standIn.put(table: "src", items: (0..<100).map { ["pk": .s("key-\($0)-spread-over-the-key-hashes"), "v": .n("1")] })
        let single = try startWorker(s, "solo", mode: "file")
        XCTAssertTrue(eventually(60) { (try? s.standIn.compareTables("src", "dst").isIdentical) == true })
        kill(single.processIdentifier, SIGTERM)
        single.waitUntilExit()
        let file = try XCTUnwrap(FileCheckpointStore(path: s.dir + "/checkpoint.json").load())
        XCTAssertEqual(file.shards.count, 4)

        let leased = try startWorker(s, "w1")
        defer { if leased.isRunning { kill(leased.processIdentifier, SIGKILL) } }
        XCTAssertTrue(eventually(30) { owners(s)["w1"] == 4 }, "\(owners(s))\n\(log(s, "w1"))")
        let rows = Dictionary(uniqueKeysWithValues: try s.leases.readAll().map { ($0.shardId, $0) })
        for (shard, progress) in file.shards {
            XCTAssertEqual(rows[shard]?.checkpoint, progress.sequence, "row \(shard) starts where the file left off")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: s.dir + "/checkpoint.json"), "imported once, then set aside")
        XCTAssertTrue(FileManager.default.fileExists(atPath: s.dir + "/checkpoint.json.imported"))
        XCTAssertTrue(log(s, "w1").contains("checkpoint file imported"), log(s, "w1"))
        kill(leased.processIdentifier, SIGTERM)
        leased.waitUntilExit()
        XCTAssertEqual(leased.terminationStatus, 0)
    }
}
