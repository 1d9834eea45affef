import AWSClient
import DynamoModel
import Foundation
import Replication
import StreamStandIn
import Synchronization
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

    private func setUp(shards: Int, configuration: StandInConfiguration = StandInConfiguration()) throws -> Setup {
        let moto = try MotoStreamTests.motoURL()
        let standIn = try StreamStandIn(configuration: configuration)
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
        return try MotoKillTests.launch(["stream", "--config", config], log: s.dir + "/\(name).log")
    }

    private func owners(_ s: Setup) -> [String: Int] {
        var count: [String: Int] = [:]
        for row in (try? s.leases.readAll()) ?? [] where !row.finished { count[row.owner ?? "-", default: 0] += 1 }
        return count
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
        // `ferry status` shows every worker's share, read from the lease table.
        let status = try MotoKillTests.launch(["status", "--config", s.dir + "/w2.yaml"], log: s.dir + "/status.out")
        status.waitUntilExit()
        let printed = (try? String(contentsOfFile: s.dir + "/status.out", encoding: .utf8)) ?? ""
        XCTAssertTrue(printed.contains("lease table \(s.table): 30 shards, 30 open"), printed)
        XCTAssertTrue(printed.contains("  w2") && printed.contains("  w3") && !printed.contains("  w1 "), printed)
        XCTAssertTrue(printed.split(separator: "\n").contains { $0.hasPrefix("  w2") && $0.contains(", lag ") },
                      "each worker's lag, from its heartbeat row: \(printed)")
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

    func testPausedWorker_sendsNoWriteForShardsItLostWhileStopped_andTheTargetConverges() throws {
        var configuration = StandInConfiguration()
        configuration.logsWriters = true
        let s = try setUp(shards: 10, configuration: configuration)
        defer { s.standIn.stop(); try? FileManager.default.removeItem(atPath: s.dir) }
        let w1 = try startWorker(s, "w1")
        let w2 = try startWorker(s, "w2")
        defer { for w in [w1, w2] where w.isRunning { kill(w.processIdentifier, SIGCONT); kill(w.processIdentifier, SIGKILL) } }
        XCTAssertTrue(eventually(60) { let o = owners(s); return o["w1"] == 5 && o["w2"] == 5 }, "\(owners(s))")

        // Every key is written with a rising version, all the while.
        let keys = (0..<100).map { "key-\($0)-spread-over-the-key-hashes" }
        let writing = Atomic<Bool>(true)
        let round = Atomic<Int>(0)
        let writer = Thread {
            while writing.load(ordering: .relaxed) {
                let v = round.add(1, ordering: .relaxed).newValue
                try? s.standIn.put(table: "src", items: keys.map { ["pk": .s($0), "v": .n(String(v))] })
                Thread.sleep(forTimeInterval: 0.3)
            }
        }
        writer.start()
        Thread.sleep(forTimeInterval: 2)
        kill(w1.processIdentifier, SIGSTOP)
        // Longer than a lease (6 s): w2 takes w1's shards once their counters stood still that long.
        XCTAssertTrue(eventually(20) { owners(s)["w1"] == nil && owners(s)["w2"] == 10 }, "\(owners(s))")
        let resumed = Date().timeIntervalSince1970
        kill(w1.processIdentifier, SIGCONT)
        Thread.sleep(forTimeInterval: 5)
        writing.store(false, ordering: .relaxed)
        XCTAssertTrue(eventually(60) { (try? s.standIn.compareTables("src", "dst").isIdentical) == true })

        // After it woke up, w1 held no lease: every write it sent since is
        // for a shard it took again (its log says when), and came after that.
        let retaken = leasesTaken(log: (try? String(contentsOfFile: s.dir + "/w1.log", encoding: .utf8)) ?? "", after: resumed)
        var stale: [String] = []
        for request in s.standIn.writeRequests() where request.userAgent.contains("worker/w1") && request.time >= resumed {
            for key in request.partitionKeys {
                let shard = try s.standIn.shardID(forKey: ["pk": .s(key)], table: "src")
                guard let takenAt = retaken[shard], request.time >= takenAt - 0.05 else {
                    stale.append("\(key) (shard \(shard)) at +\(String(format: "%.2f", request.time - resumed)) s")
                    continue
                }
            }
        }
        XCTAssertEqual(stale, [], "w1 wrote shards it did not hold after waking up")
        XCTAssertTrue(s.standIn.writeRequests().contains { $0.userAgent.contains("worker/w2") }, "writes are logged by worker")
        // Versions of a key may go back for a moment after the takeover:
        // w2 replays from the row's last checkpoint (at least once, as after
        // a crash in file mode). What must not happen is a write from w1,
        // checked above; and the target ends equal to the source.
        XCTAssertEqual(try s.standIn.compareTables("src", "dst").isIdentical, true)
        for w in [w1, w2] { kill(w.processIdentifier, SIGTERM); w.waitUntilExit() }
    }

    func testSplitShards_acrossTwoWorkers_childrenWaitForFinishedParents_andTheTargetConverges() throws {
        let s = try setUp(shards: 4)
        defer { s.standIn.stop(); try? FileManager.default.removeItem(atPath: s.dir) }
        let workers = try ["w1", "w2"].map { try startWorker(s, $0) }
        defer { for w in workers where w.isRunning { kill(w.processIdentifier, SIGKILL) } }
        XCTAssertTrue(eventually(60) { let o = owners(s); return o["w1"] == 2 && o["w2"] == 2 }, "\(owners(s))")
        let keys = (0..<80).map { "key-\($0)-spread-over-the-key-hashes" }
        try s.standIn.put(table: "src", items: keys.map { ["pk": .s($0), "v": .n("1")] })
        let parents = try s.standIn.openShardIDs(table: "src")
        var children: [String] = []
        for parent in parents { children += try s.standIn.splitShard(parent) }
        try s.standIn.put(table: "src", items: keys.map { ["pk": .s($0), "v": .n("2")] })
        XCTAssertTrue(eventually(90) { (try? s.standIn.compareTables("src", "dst").isIdentical) == true },
                      "no convergence: \(owners(s))\n\(log(s, "w1"))")
        // Every parent row ends finished, and the children are held by the two workers.
        XCTAssertTrue(eventually(30) {
            let rows = Dictionary(uniqueKeysWithValues: ((try? s.leases.readAll()) ?? []).map { ($0.shardId, $0) })
            return parents.allSatisfy { rows[$0]?.finished == true }
                && children.allSatisfy { rows[$0]?.owner != nil && rows[$0]?.parents.count == 1 }
        }, "\((try? s.leases.readAll()) ?? [])")
        // A child's first write came after its parent's last one, key by key.
        for key in keys {
            let versions = try s.standIn.appliedWrites(table: "dst", key: ["pk": .s(key)]).compactMap {
                $0.item?["v"]?.numberText.flatMap { Int($0) }
            }
            XCTAssertEqual(versions.last, 2, key)
            XCTAssertFalse(zip(versions, versions.dropFirst()).contains { $0 == 2 && $1 == 1 },
                           "\(key): the parent's version landed after the child's: \(versions)")
        }
        for w in workers { kill(w.processIdentifier, SIGTERM); w.waitUntilExit(); XCTAssertEqual(w.terminationStatus, 0) }
    }

    /// Shard → when this worker's log says it took the lease (after `after`).
    private func leasesTaken(log: String, after: Double) -> [String: Double] {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        var taken: [String: Double] = [:]
        for line in log.split(separator: "\n") where line.contains("msg=\"lease taken\"") {
            let fields = Dictionary(line.split(separator: " ").compactMap { part -> (String, String)? in
                let kv = part.split(separator: "=", maxSplits: 1)
                return kv.count == 2 ? (String(kv[0]), String(kv[1])) : nil
            }, uniquingKeysWith: { a, _ in a })
            guard let time = fields["time"].flatMap({ formatter.date(from: $0) })?.timeIntervalSince1970,
                  let shard = fields["shard"], time >= after else { continue }
            taken[shard] = min(taken[shard] ?? .infinity, time)
        }
        return taken
    }
}
