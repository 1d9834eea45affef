import AWSClient
import Dispatch
import DynamoModel
import Foundation
import Replication
import StreamStandIn

/// `idle`: thousands of quiet shards. Ferry's CPU while nothing happens
/// (the poll budget at work), its threads and resident memory, and how long
/// a single new record on a random quiet shard takes to reach the target.
func runIdleBenchmark() {
    let shards = option("--shards").flatMap(Int.init) ?? 5000
    let seconds = option("--seconds").flatMap(Double.init) ?? 30
    let dir = NSTemporaryDirectory() + "ferry-bench-idle-\(getpid())"
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    print("idle benchmark: \(shards) idle shards, the default poll budget (500 idle polls/s) and idle backoff (1 s); release build")
    let servers = LoopbackServers.start(["serve-idle", "--shards", String(shards)])
    var probe: LagProbe?
    let (replicator, target, pool) = makeReplicator(servers, dir: dir, viewType: .newImage, lanes: 8, batch: 100) { inner in
        let p = LagProbe(inner)
        probe = p
        return p
    }
    let done = DispatchSemaphore(value: 0)
    let wall0 = Date()
    DispatchQueue.global().async { _ = replicator.run(target: target, poolOptions: pool); done.signal() }
    // Warm-up: every shard has had its iterator and a first empty page.
    while replicator.statusReport().shards.filter({ $0.caughtUp == true }).count < shards {
        Thread.sleep(forTimeInterval: 1)
        if Date().timeIntervalSince(wall0) > 300 { print("warm-up did not finish in 300 s"); break }
    }
    print(String(format: "warm-up: every shard read once after %.1f s", Date().timeIntervalSince(wall0)))
    let cpu0 = cpuSecondsSelf(), t0 = Date()
    var pokes = 0
    while Date().timeIntervalSince(t0) < seconds {
        servers.input.fileHandleForWriting.write(Data("poke\n".utf8))
        pokes += 1
        Thread.sleep(forTimeInterval: 2)
    }
    let elapsed = Date().timeIntervalSince(t0)
    let cpu = cpuSecondsSelf() - cpu0
    Thread.sleep(forTimeInterval: 12)  // let the last pokes arrive
    let status = replicator.statusReport()
    replicator.stop()
    done.wait()
    servers.stop()
    var lags = probe!.samples.withLock { $0 }.map { $0 / 1000 }
    lags.sort()
    let rssMB = Double(currentRSSBytes()) / 1_048_576
    print(String(format: "ferry: %.1f%% of one core while idle (%.2f s CPU in %.0f s), %d threads (bound %d), resident memory %.0f MB, peak %.0f MB",
                 cpu / elapsed * 100, cpu, elapsed, status.threads ?? 0, status.threadBound ?? 0, rssMB, Clock.peakRSSMegabytes()))
    guard !lags.isEmpty else { print("no record arrived"); return }
    print(String(format: "wake-up latency of a quiet shard (%d records, one every 2 s): median %.1f s, max %.1f s",
                 lags.count, lags[lags.count / 2], lags.last!) + (lags.count < pokes ? " (\(pokes - lags.count) still on the way)" : ""))
}

/// Resident memory now, from /proc/self/statm.
func currentRSSBytes() -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
    let fields = text.split(separator: " ")
    return fields.count > 1 ? (Int(fields[1]) ?? 0) * Int(sysconf(Int32(_SC_PAGESIZE))) : 0
}

/// The idle source: `--shards` open shards, no records; each `poke` line on
/// standard input appends one record (carrying its creation time in µs) to
/// a random shard.
func runServeIdle() {
    serveChild(view: .newImage) { source, shardIDs in
        return {
            var n = 0
            while let line = readLine() {
                guard line == "poke" else { continue }
                let now = Int(Date().timeIntervalSince1970 * 1_000_000)
                _ = try source.append(shard: shardIDs.randomElement()!, [.insert(["pk": .s("idle-\(n)"), "t": .n(String(now))])])
                n += 1
            }
        }
    }
}
