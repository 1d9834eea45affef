import AWSClient
import Dispatch
import DynamoModel
import Foundation
import Logging
import Replication

/// `leases`: several workers in lease mode on one stream (in this process,
/// each with its own replicator, writer pool and lease coordinator), the
/// loopback stand-in as stream, target and lease store. Reports records per
/// CPU-second beside one worker in file mode, and what share of the
/// requests the leases cost.
func runLeaseBenchmark() {
    let workers = option("--workers").flatMap(Int.init) ?? 4
    let shards = option("--shards").flatMap(Int.init) ?? 2000
    let records = option("--records").flatMap(Int.init) ?? 400_000
    let leaseSeconds = option("--lease-seconds").flatMap(Double.init) ?? 30
    print("lease benchmark: \(workers) workers in lease mode vs 1 in file mode, \(records) records over \(shards) shards, "
        + "\(Int(leaseSeconds)) s leases; release build")
    let single = measureWorkers(count: 0, shards: shards, records: records, leaseSeconds: leaseSeconds)
    let leased = measureWorkers(count: workers, shards: shards, records: records, leaseSeconds: leaseSeconds)
    print(String(format: "file mode, 1 worker:   %8.0f records per CPU-second  (%.2f µs CPU/record, %.1f s); GetRecords %d, BatchWriteItem %d",
                 single.perCPUSecond, 1e6 / single.perCPUSecond, single.wall, single.polls, single.batches))
    print(String(format: "lease mode, %d workers: %8.0f records per CPU-second  (%.2f µs CPU/record, %.1f s): %.0f%% of one worker's",
                 workers, leased.perCPUSecond, 1e6 / leased.perCPUSecond, leased.wall, leased.perCPUSecond / single.perCPUSecond * 100))
    print(String(format: "lease table requests: %d of %d requests (%.2f%%); GetRecords %d, BatchWriteItem %d",
                 leased.leaseRequests, leased.leaseRequests + leased.streamRequests,
                 Double(leased.leaseRequests) / Double(max(1, leased.leaseRequests + leased.streamRequests)) * 100,
                 leased.polls, leased.batches))
    let all = Double(max(1, leased.leaseRequests + leased.streamRequests))
    print(String(format: "  of which heartbeats %d + checkpoint writes %d = %.2f%%; table reads %d, creates/takes/releases %d",
                 leased.heartbeats, leased.checkpoints, Double(leased.heartbeats + leased.checkpoints) / all * 100,
                 leased.reads, leased.takes))
}

private struct WorkerRun {
    var perCPUSecond: Double
    var wall: Double
    var leaseRequests: Int
    var streamRequests: Int
    var polls: Int
    var batches: Int
    var reads = 0, takes = 0, heartbeats = 0, checkpoints = 0
}

/// `count` 0: one worker in file mode.
private func measureWorkers(count: Int, shards: Int, records: Int, leaseSeconds: Double) -> WorkerRun {
    let servers = LoopbackServers.start(["serve", "--records", String(records), "--shards", String(shards)])
    defer { servers.stop() }
    let dir = NSTemporaryDirectory() + "ferry-bench-leases-\(getpid())-\(count)"
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    let store = DynamoDBClient(endpoint: Endpoint(url: servers.sourceURL, region: "us-east-1", service: .dynamodb, isCustom: true),
                               credentials: StaticCredentialProvider(accessKeyId: "bench", secretAccessKey: "bench"),
                               transport: CurlHTTPClient())
    var runs: [(StreamReplicator, any TargetWriter, WriterPoolOptions, LeaseCoordinator?)] = []
    for worker in 0..<max(1, count) {
        if count == 0 {
            let (r, t, p) = makeReplicator(servers, dir: dir, viewType: .newAndOldImages, lanes: 8, batch: 100)
            runs.append((r, t, p, nil))
            continue
        }
        let table = LeaseTable(client: store, table: "bench-leases", streamArn: servers.streamArn, workerId: "w\(worker)")
        try! table.ensureTable(inAlternator: false)
        var options = LeaseCore.Options(workerId: "w\(worker)")
        options.leaseSeconds = leaseSeconds
        options.requestTimeout = leaseSeconds / 6
        options.scanInterval = min(10, leaseSeconds / 3)
        options.startupWait = option("--startup-wait").flatMap(Double.init)
        let coordinator = LeaseCoordinator(table: table, options: options, logger: Logger(label: "bench"))
        let (r, t, p) = makeReplicator(servers, dir: dir + "-\(worker)", viewType: .newAndOldImages, lanes: 8, batch: 100,
                                       checkpoints: coordinator.checkpoints, leased: true)
        r.whenRunning { coordinator.start(r) }
        runs.append((r, t, p, coordinator))
    }
    let cpu0 = cpuSecondsSelf(), wall0 = Date()
    let done = DispatchGroup()
    for (replicator, target, pool, _) in runs {
        done.enter()
        DispatchQueue.global().async { _ = replicator.run(target: target, poolOptions: pool); done.leave() }
    }
    while runs.reduce(0, { $0 + $1.0.appliedRecords }) < records {
        usleep(20_000)
        if Date().timeIntervalSince(wall0) > 600 { print("did not finish in 600 s"); break }
    }
    let wall = Date().timeIntervalSince(wall0), cpu = cpuSecondsSelf() - cpu0
    let leaseRequests = runs.compactMap(\.3).reduce(0) { $0 + $1.table.requests.value }
    let tallies = runs.compactMap(\.3).map(\.table.tally)
    func sum(_ kind: KeyPath<LeaseTable.Tally, LeaseTable.RequestTally>) -> Int { tallies.reduce(0) { $0 + $1[keyPath: kind].value } }
    let kinds = (sum(\.reads), sum(\.takes), sum(\.heartbeats), sum(\.checkpoints))
    let totals = runs.map { $0.0.statusReport().totals }
    for (replicator, _, _, coordinator) in runs {
        replicator.stop()
        _ = coordinator
    }
    done.wait()
    for (_, _, _, coordinator) in runs { coordinator?.stop() }
    let polls = totals.reduce(0) { $0 + $1.polls }, batches = totals.reduce(0) { $0 + $1.batches }
    return WorkerRun(perCPUSecond: Double(records) / cpu, wall: wall, leaseRequests: leaseRequests,
                     streamRequests: polls + batches, polls: polls, batches: batches,
                     reads: kinds.0, takes: kinds.1, heartbeats: kinds.2, checkpoints: kinds.3)
}
