@testable import Replication
import XCTest

/// Several workers on one in-memory lease table (shard rows and heartbeat
/// rows) that applies every write with its condition, as the store will.
/// Each worker has its own clock,
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
        /// Its table reads fail; its heartbeats still go through.
        var readsFail = false
        /// Stopped (SIGSTOP, a long pause): it does nothing, but its clock
        /// runs on, and whatever it would send on waking is judged by it.
        var paused = false
        /// Global times of takes from a worker still renewing.
        var steals: [Double] = []
    }

    var table: [String: LeaseRow] = [:]
    /// Heartbeat rows: worker → counter.
    var beats: [String: Int] = [:]
    /// Global time of each worker's last heartbeat that landed.
    var beatLanded: [String: Double] = [:]
    var listing: [ShardDescriptor]
    var workers: [String: Worker] = [:]
    var now = 0.0
    /// Every way the run broke a rule, in words.
    var violations: [String] = []
    var takes = 0
    var releases = 0
    /// Lease-table writes by kind: heartbeat, take (takes, owned creates
    /// and failed ones), release, checkpoint, delete.
    var writes: [String: Int] = [:]

    init(shards: Int) {
        listing = (0..<shards).map { ShardDescriptor(id: String(format: "shard-%04d", $0)) }
    }

    mutating func join(_ id: String, clockOffset: Double, clockRate: Double = 1) {
        var options = LeaseCore.Options(workerId: id)
        options.heartbeatBase = 0
        workers[id] = Worker(core: LeaseCore(options: options), clockOffset: clockOffset, clockRate: clockRate)
    }

    func localTime(_ id: String) -> Double { now * workers[id]!.clockRate + workers[id]!.clockOffset }

    /// The worker stops for good: it writes nothing more, anywhere.
    mutating func crash(_ id: String) { workers[id] = nil }

    mutating func run(until end: Double) {
        while now < end {
            now += 1
            for id in workers.keys.sorted() where !workers[id]!.paused { step(id) }
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
            guard !cut && !workers[id]!.readsFail else { return }
            let rows = table.values.sorted { $0.shardId < $1.shardId }
            let heartbeats = beats.map { LeaseHeartbeat(worker: $0.key, counter: $0.value) }
            carryOut(workers[id]!.core.tableRead(rows, heartbeats: heartbeats, listed: listing, now: local), by: id)
        case .heartbeat(let counter):
            writes["heartbeat", default: 0] += 1
            guard !cut else { return carryOut(workers[id]!.core.heartbeatFailed(now: local), by: id) }
            beats[id] = counter
            beatLanded[id] = now
            carryOut(workers[id]!.core.heartbeatWritten(now: local), by: id)
        case .createOwned(let row):
            writes["take", default: 0] += 1
            guard !cut, table[row.shardId] == nil else { return workers[id]!.core.takeFailed(row.shardId) }
            takes += 1
            table[row.shardId] = row
            carryOut(workers[id]!.core.taken(row, now: local), by: id)
        case .deleteHeartbeat(let worker, let counter):
            writes["delete", default: 0] += 1
            if !cut && (counter == nil ? worker == id : beats[worker] == counter) { beats[worker] = nil }
        case .take(let shard, let owner, let counter):
            writes["take", default: 0] += 1
            guard !cut, var row = table[shard], row.owner == owner, row.counter == counter else {
                return workers[id]!.core.takeFailed(shard)
            }
            if let owner, let victim = workers[owner], !victim.partitioned { workers[id]!.steals.append(now) }
            takes += 1
            row.owner = id
            row.counter += 1
            table[shard] = row
            carryOut(workers[id]!.core.taken(row, now: local), by: id)
        case .release(let shard, let counter, let checkpoint):
            releases += 1
            writes["release", default: 0] += 1
            if workers[id]!.reading.contains(shard) { violations.append("t=\(now): \(id) released \(shard) while reading it") }
            guard !cut, var row = table[shard], row.owner == id, row.counter == counter else { return }
            advance(&row, to: checkpoint)
            row.owner = nil
            row.counter += 1
            table[shard] = row
        case .writeCheckpoint(let shard, let sequence, let finished):
            writes["checkpoint", default: 0] += 1
            guard !cut else { return carryOut(workers[id]!.core.checkpointFailed(shard, conditionFailed: false), by: id) }
            guard var row = table[shard], row.owner == id else {
                return carryOut(workers[id]!.core.checkpointFailed(shard, conditionFailed: true), by: id)
            }
            advance(&row, to: sequence)
            row.finished = finished
            table[shard] = row
            workers[id]!.core.checkpointWritten(shard)
        case .deleteRow(let shard):
            writes["delete", default: 0] += 1
            if !cut && table[shard]?.finished == true { table[shard] = nil }
        case .startReading(let shard, let from):
            // A paused worker still "reads" what it held, but may no longer
            // write it: only an admitted reader is a conflict.
            for (other, worker) in workers
            where other != id && worker.reading.contains(shard) && worker.core.mayWrite(shard, now: localTime(other)) {
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
        XCTAssertGreaterThan(cluster.releases, 0, "the others see the newcomer's heartbeat and give their surplus up")
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
        let lastBeat = try! XCTUnwrap(cluster.beatLanded["w2"])
        cluster.run(until: lastBeat + 29)
        XCTAssertTrue(cluster.table.values.filter { orphans.contains($0.shardId) }.allSatisfy { $0.owner == "w2" },
                      "nobody takes a lease before its owner's heartbeat stood still for 30 s")
        cluster.run(until: 900)
        assertEvenSplit(cluster, "after the crash")
        XCTAssertEqual(cluster.readers.values.sorted(), [5, 5])
    }
}

extension LeaseCoreTests {
    func testCluster_aPausedWorker_isNeverAdmittedBesideTheNewOwner_andRejoinsAfterwards() {
        var cluster = LeaseCluster(shards: 30)
        for i in 0..<3 { cluster.join("w\(i)", clockOffset: Double(i) * 333, clockRate: [1.1, 0.9, 1.05][i]) }
        cluster.run(until: 600)
        assertEvenSplit(cluster, "before the pause")
        let held = cluster.workers["w1"]!.reading
        cluster.workers["w1"]!.paused = true
        cluster.run(until: 720)
        XCTAssertTrue(held.allSatisfy { cluster.table[$0]?.owner != "w1" }, "the others took every shard of the paused worker")
        let local = cluster.localTime("w1")
        XCTAssertTrue(held.allSatisfy { !cluster.workers["w1"]!.core.mayWrite($0, now: local) },
                      "on waking, before it hears anything, it may write none of them")
        cluster.workers["w1"]!.paused = false
        cluster.run(until: 1_800)
        assertEvenSplit(cluster, "after the pause")
    }

    func testCluster_aWorkerWhoseTableReadsFail_stopsItsShardsWithinAWindow_andTheOthersTakeThemSafely() {
        var cluster = LeaseCluster(shards: 30)
        for i in 0..<3 { cluster.join("w\(i)", clockOffset: Double(i) * -777, clockRate: i == 0 ? 0.9 : 1.1) }
        cluster.run(until: 600)
        assertEvenSplit(cluster, "before the reads fail")
        cluster.workers["w0"]!.readsFail = true
        cluster.run(until: 618)
        XCTAssertEqual(cluster.readers["w0"], 0, "no read confirmed its shards for 15 s (its clock): all stopped")
        cluster.run(until: 1_200)
        XCTAssertEqual(cluster.violations, [])
        XCTAssertTrue(cluster.everyShardReadOnce, "\(cluster.readers)")
        XCTAssertEqual(cluster.readers, ["w0": 0, "w1": 15, "w2": 15])
    }

    func testCluster_liveVictimsOfSteals_stopBeforeTheStealersStart_withClocksRunningApart() {
        var cluster = LeaseCluster(shards: 40)
        cluster.join("w0", clockOffset: 0, clockRate: 0.9)
        cluster.run(until: 300)
        XCTAssertEqual(cluster.readers, ["w0": 40])
        cluster.join("w1", clockOffset: 5_000, clockRate: 1.1)
        cluster.join("w2", clockOffset: -5_000, clockRate: 1.1)
        cluster.run(until: 2_400)
        assertEvenSplit(cluster, "after two joins")
        let steals = cluster.workers.values.reduce(0) { $0 + $1.steals.count }
        XCTAssertGreaterThan(steals, 0, "some shards moved from a live owner")
    }

    func testCluster_2000Shards_4Workers_leaseTableWritesPerMinuteAreHeartbeatsAndCheckpoints() {
        var cluster = LeaseCluster(shards: 2_000)
        for i in 0..<4 { cluster.join("w\(i)", clockOffset: Double(i) * 1_111, clockRate: [1, 1.02, 0.98, 1.01][i]) }
        cluster.run(until: 120)
        XCTAssertEqual(cluster.violations, [])
        XCTAssertTrue(cluster.everyShardReadOnce, "\(cluster.readers)")
        let startup = cluster.writes["take", default: 0] + cluster.writes["release", default: 0]
        XCTAssertLessThan(startup, 2_400, "about one owned create per shard at start-up, few lost races: \(cluster.writes)")
        cluster.run(until: 300)
        let before = cluster.writes
        cluster.run(until: 360)
        var minute: [String: Int] = [:]
        for (kind, n) in cluster.writes { minute[kind] = n - before[kind, default: 0] }
        // 4 workers, a heartbeat every 10 s: 24 a minute (28 with clock rates
        // and phase). Nothing else of the leases moves once the split is even.
        XCTAssertLessThanOrEqual(minute["heartbeat", default: 0], 28, "\(minute)")
        XCTAssertEqual(minute["take", default: 0] + minute["release", default: 0] + minute["delete", default: 0], 0, "\(minute)")
        // Every shard's checkpoint moves every second; each worker holds 500
        // and writes each at most every 100 s: 5 a second, 300 a minute.
        XCTAssertLessThanOrEqual(minute["checkpoint", default: 0], 4 * 300 + 40, "\(minute)")
        XCTAssertGreaterThan(minute["checkpoint", default: 0], 4 * 250, "checkpoints still go in: \(minute)")
        XCTAssertEqual(cluster.violations, [])
    }
}
