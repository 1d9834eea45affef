@testable import Replication
import XCTest

/// Several workers on one in-memory lease table that applies every write
/// with its condition, as the store will. Each worker has its own clock,
/// offset by thousands of seconds (only durations may count) and running
/// up to 10% fast or slow (far worse than real clocks, so the safety
/// margins are exercised). Answers come back at once; time advances one
/// simulated second per step.
struct LeaseCluster {
    struct Worker {
        var core: LeaseCore
        var clockOffset: Double
        var clockRate: Double
        var reading: Set<String> = []
        /// Cut off from the lease table (it still writes to the target).
        var partitioned = false
        /// Global times of takes from a worker still renewing.
        var steals: [Double] = []
    }

    var table: [String: LeaseRow] = [:]
    var listing: [ShardDescriptor]
    var workers: [String: Worker] = [:]
    var now = 0.0
    /// Every way the run broke a rule, in words.
    var violations: [String] = []
    var takes = 0
    var releases = 0

    init(shards: Int) {
        listing = (0..<shards).map { ShardDescriptor(id: String(format: "shard-%03d", $0)) }
    }

    mutating func join(_ id: String, clockOffset: Double, clockRate: Double = 1) {
        workers[id] = Worker(core: LeaseCore(options: LeaseCore.Options(workerId: id)), clockOffset: clockOffset,
                             clockRate: clockRate)
    }

    func localTime(_ id: String) -> Double { now * workers[id]!.clockRate + workers[id]!.clockOffset }

    /// The worker stops for good: it writes nothing more, anywhere.
    mutating func crash(_ id: String) { workers[id] = nil }

    mutating func run(until end: Double) {
        while now < end {
            now += 1
            for id in workers.keys.sorted() { step(id) }
            checkExclusiveWriters()
        }
    }

    private mutating func step(_ id: String) {
        let local = localTime(id)
        for shard in workers[id]!.reading.sorted() where workers[id]!.core.mayWrite(shard, now: local) {
            workers[id]!.core.checkpointMoved(shard, to: SequenceNumber(String(Int(now * 10)))!)
        }
        let actions = workers[id]!.core.tick(now: local)
        carryOut(actions, by: id)
    }

    private mutating func checkExclusiveWriters() {
        for shard in listing.map(\.id) {
            let writers = workers.filter { $0.value.core.mayWrite(shard, now: localTime($0.key)) }.map(\.key)
            if writers.count > 1 { violations.append("t=\(now): \(writers.sorted()) may all write \(shard)") }
        }
    }

    private mutating func carryOut(_ actions: [LeaseCore.Action], by id: String) {
        for action in actions { carryOut(action, by: id) }
    }

    private mutating func carryOut(_ action: LeaseCore.Action, by id: String) {
        let local = localTime(id)
        let cut = workers[id]!.partitioned
        switch action {
        case .readTable:
            guard !cut else { return }
            let rows = table.values.sorted { $0.shardId < $1.shardId }
            carryOut(workers[id]!.core.tableRead(rows, listed: listing, now: local), by: id)
        case .createRow(let row):
            if !cut && table[row.shardId] == nil { table[row.shardId] = row }
        case .take(let shard, let owner, let counter):
            guard !cut, var row = table[shard], row.owner == owner, row.counter == counter else {
                return workers[id]!.core.takeFailed(shard)
            }
            if let owner, let victim = workers[owner], !victim.partitioned { workers[id]!.steals.append(now) }
            takes += 1
            row.owner = id
            row.counter += 1
            table[shard] = row
            carryOut(workers[id]!.core.taken(row, now: local), by: id)
        case .renew(let shard, let counter):
            guard !cut else { return carryOut(workers[id]!.core.renewFailed(shard, conditionFailed: false, now: local), by: id) }
            guard var row = table[shard], row.owner == id, row.counter == counter else {
                return carryOut(workers[id]!.core.renewFailed(shard, conditionFailed: true, now: local), by: id)
            }
            row.counter += 1
            table[shard] = row
            carryOut(workers[id]!.core.renewed(shard, counter: row.counter, now: local), by: id)
        case .release(let shard, let counter, let checkpoint):
            releases += 1
            if workers[id]!.reading.contains(shard) { violations.append("t=\(now): \(id) released \(shard) while reading it") }
            guard !cut, var row = table[shard], row.owner == id, row.counter == counter else { return }
            advance(&row, to: checkpoint)
            row.owner = nil
            row.counter += 1
            table[shard] = row
        case .writeCheckpoint(let shard, let sequence, let finished):
            guard !cut else { return carryOut(workers[id]!.core.checkpointFailed(shard, conditionFailed: false), by: id) }
            guard var row = table[shard], row.owner == id else {
                return carryOut(workers[id]!.core.checkpointFailed(shard, conditionFailed: true), by: id)
            }
            advance(&row, to: sequence)
            row.finished = finished
            table[shard] = row
            workers[id]!.core.checkpointWritten(shard)
        case .deleteRow(let shard):
            if !cut && table[shard]?.finished == true { table[shard] = nil }
        case .startReading(let shard, let from):
            for (other, worker) in workers where other != id && worker.reading.contains(shard) {
                violations.append("t=\(now): \(id) starts \(shard) while \(other) reads it")
            }
            if from != table[shard]?.checkpoint {
                violations.append("t=\(now): \(id) starts \(shard) from \(String(describing: from)), the row says "
                    + String(describing: table[shard]?.checkpoint))
            }
            workers[id]!.reading.insert(shard)
        case .stopReading(let shard):
            workers[id]!.reading.remove(shard)
        }
    }

    private mutating func advance(_ row: inout LeaseRow, to sequence: SequenceNumber?) {
        if let old = row.checkpoint, sequence.map({ $0 < old }) ?? true {
            violations.append("t=\(now): the checkpoint of \(row.shardId) goes back from \(old)")
        }
        row.checkpoint = sequence
    }

    /// Shards read per worker, and whether every shard is read by exactly one.
    var readers: [String: Int] { workers.mapValues(\.reading.count) }
    var everyShardReadOnce: Bool {
        listing.allSatisfy { shard in workers.values.filter { $0.reading.contains(shard.id) }.count == 1 }
    }
}

extension LeaseCoreTests {
    func assertEvenSplit(_ cluster: LeaseCluster, _ context: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(cluster.violations, [], context, file: file, line: line)
        XCTAssertTrue(cluster.everyShardReadOnce, "\(context): \(cluster.readers)", file: file, line: line)
        let counts = cluster.readers.values
        XCTAssertLessThanOrEqual(counts.max()! - counts.min()!, 1, "\(context): \(cluster.readers)", file: file, line: line)
    }

    func testCluster_twoToFourWorkers_tenOrThirtyShards_neverShareAShard_convergeWithinOne_andThenStayPut() {
        for workers in 2...4 {
            for shards in [10, 30] {
                var cluster = LeaseCluster(shards: shards)
                for i in 0..<workers {
                    cluster.join("w\(i)", clockOffset: Double(i) * 7_919 - 5_000, clockRate: [1, 1.1, 0.9, 1.05][i])
                }
                cluster.run(until: 900)
                assertEvenSplit(cluster, "\(workers) workers, \(shards) shards")
                let takes = cluster.takes
                let owners = cluster.table.mapValues(\.owner)
                cluster.run(until: 2_700)
                XCTAssertEqual(cluster.takes, takes, "\(workers)/\(shards): no shard moves once even (no ping-pong)")
                XCTAssertEqual(cluster.table.mapValues(\.owner), owners)
                XCTAssertEqual(cluster.violations, [])
            }
        }
    }

    func testCluster_aJoiningWorker_getsItsShare_stealingOneShardPerLeaseAtMost() {
        var cluster = LeaseCluster(shards: 30)
        cluster.join("w0", clockOffset: 0)
        cluster.join("w1", clockOffset: 3_600)
        cluster.run(until: 600)
        assertEvenSplit(cluster, "before the join")
        XCTAssertEqual(cluster.readers, ["w0": 15, "w1": 15])
        cluster.join("w2", clockOffset: -86_400)
        cluster.run(until: 1_800)
        assertEvenSplit(cluster, "after the join")
        XCTAssertEqual(cluster.readers, ["w0": 10, "w1": 10, "w2": 10])
        for worker in cluster.workers.values {
            for (a, b) in zip(worker.steals, worker.steals.dropFirst()) {
                XCTAssertGreaterThanOrEqual(b - a, 30, "steals at \(worker.steals)")
            }
        }
        XCTAssertFalse(cluster.workers["w2"]!.steals.isEmpty, "an invisible newcomer makes itself seen by a steal")
        XCTAssertGreaterThan(cluster.releases, 0, "then the others give their surplus up")
    }

    func testCluster_aWorkerCutOffFromTheTable_stopsWritingBeforeOthersTakeItsShards() {
        var cluster = LeaseCluster(shards: 30)
        // The one cut off runs slow (its windows last longer in real time),
        // the takers fast (their leases expire sooner).
        for i in 0..<3 { cluster.join("w\(i)", clockOffset: Double(i) * 1_000, clockRate: i == 1 ? 0.9 : 1.1) }
        cluster.run(until: 600)
        assertEvenSplit(cluster, "before the cut")
        cluster.workers["w1"]!.partitioned = true
        cluster.run(until: 618)
        XCTAssertEqual(cluster.readers["w1"], 0, "every write window closed within 15 s (its clock) of the last renewal")
        cluster.run(until: 1_500)
        XCTAssertEqual(cluster.violations, [])
        XCTAssertTrue(cluster.everyShardReadOnce, "\(cluster.readers)")
        XCTAssertEqual(cluster.readers, ["w0": 15, "w1": 0, "w2": 15])
    }

    func testCluster_aCrashedWorkersShards_areTakenAfterTheirLeasesExpire_fromTheirCheckpoints() {
        var cluster = LeaseCluster(shards: 10)
        for i in 0..<3 { cluster.join("w\(i)", clockOffset: Double(i) * -2_500) }
        cluster.run(until: 600)
        assertEvenSplit(cluster, "before the crash")
        let orphans = cluster.table.values.filter { $0.owner == "w2" }.map(\.shardId)
        cluster.crash("w2")
        cluster.run(until: 629)
        XCTAssertTrue(cluster.table.values.filter { orphans.contains($0.shardId) }.allSatisfy { $0.owner == "w2" },
                      "nobody takes a lease before it stood still for 30 s")
        cluster.run(until: 900)
        assertEvenSplit(cluster, "after the crash")
        XCTAssertEqual(cluster.readers.values.sorted(), [5, 5])
    }
}
