import AWSClient
import Dispatch
import DynamoModel
import Foundation
import Logging
import Replication
import Synchronization

/// A child `ferry-bench serve…` process and the URLs it printed.
struct LoopbackServers {
    let process: Process
    let input: Pipe
    let output: FileHandle
    let sourceURL: String
    let streamArn: String
    let sinkURL: String

    static func start(_ arguments: [String]) -> LoopbackServers {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
        process.arguments = arguments
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try! process.run()
        let handle = output.fileHandleForReading
        let line = readLine(handle)
        let parts = line.split(separator: " ").map(String.init)
        guard parts.count == 4, parts[0] == "READY" else { fatalError("loopback servers failed: \(line)") }
        return LoopbackServers(process: process, input: input, output: handle, sourceURL: parts[1], streamArn: parts[2], sinkURL: parts[3])
    }

    static func readLine(_ handle: FileHandle) -> String {
        var bytes: [UInt8] = []
        while true {
            let b = handle.readData(ofLength: 1)
            if b.isEmpty || b.first == UInt8(ascii: "\n") { break }
            bytes.append(b.first!)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    func stop() {
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
    }
}

func cpuSecondsSelf() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
        + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
}

func makeReplicator(_ servers: LoopbackServers, dir: String, viewType: StreamViewType, lanes: Int, batch: Int,
                    checkpoints: (any CheckpointStore)? = nil, leased: Bool = false,
                    target wrap: (AlternatorTarget) -> any TargetWriter = { $0 }) -> (StreamReplicator, any TargetWriter, WriterPoolOptions) {
    let credentials = StaticCredentialProvider(accessKeyId: "bench", secretAccessKey: "bench")
    let streams = DynamoDBStreamsClient(endpoint: Endpoint(url: servers.sourceURL, region: "us-east-1", service: .dynamodbStreams, isCustom: true),
                                        credentials: credentials, transport: CurlHTTPClient())
    let sinkClients = (0..<2).map { _ in
        DynamoDBClient(endpoint: Endpoint(url: servers.sinkURL, region: "us-east-1", service: .dynamodb, isCustom: true),
                       credentials: credentials, transport: CurlHTTPClient(options: HTTPClientOptions(maxIdleHandles: 16)))
    }
    var options = StreamReplicatorOptions(streamArn: servers.streamArn,
                                          mapping: MappingOptions(targetTable: "bench-target", keySchema: KeySchema(partitionKey: "pk"),
                                                                  viewType: viewType))
    options.idleBackoffMax = 1.0  // the production default
    options.readers = option("--readers").flatMap(Int.init) ?? options.readers
    options.discoveryInterval = 5
    options.statusPath = dir + "/status.json"
    options.leased = leased
    try? FileManager.default.removeItem(atPath: dir + "/checkpoint.json")
    let replicator = try! StreamReplicator(options: options, streams: streams, source: nil,
                                           checkpoints: checkpoints ?? FileCheckpointStore(path: dir + "/checkpoint.json"),
                                           counters: ReplicationCounters(), deadLetters: nil, logger: Logger(label: "bench"))
    var pool = WriterPoolOptions()
    pool.lanes = lanes
    pool.batchSize = batch
    pool.writers = option("--writers").flatMap(Int.init) ?? pool.writers
    return (replicator, wrap(AlternatorTarget(table: "bench-target", clients: sinkClients)), pool)
}

/// Replicates a long synthetic stream from the loopback source into the
/// loopback sink, then pushes records the Lambda way for comparison.
func runStreamBenchmark() {
    let records = option("--records").flatMap(Int.init) ?? 400_000
    let shards = option("--shards").flatMap(Int.init) ?? 4
    let lambdaRecords = option("--lambda-records").flatMap(Int.init) ?? 2000
    let lanes = option("--lanes").flatMap(Int.init) ?? 8
    let batch = option("--batch").flatMap(Int.init) ?? 100
    let dir = NSTemporaryDirectory() + "ferry-bench-\(getpid())"
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)

    print("stream benchmark: \(records) records of ~1 KB over \(shards) shards; \(lanes) lanes, batches of \(batch); release build")
    let servers = LoopbackServers.start(["serve", "--records", String(records), "--shards", String(shards)])
    let (replicator, target, pool) = makeReplicator(servers, dir: dir, viewType: .newAndOldImages, lanes: lanes, batch: batch)
    let cpu0 = cpuSecondsSelf(), wall0 = Date(), faults0 = Clock.minorFaults()
    let done = DispatchSemaphore(value: 0)
    DispatchQueue.global().async { _ = replicator.run(target: target, poolOptions: pool); done.signal() }
    while true {
        if replicator.appliedRecords >= records { break }
        usleep(5_000)
    }
    let wall = Date().timeIntervalSince(wall0), cpu = cpuSecondsSelf() - cpu0
    let faults = Clock.minorFaults() - faults0
    let totals = replicator.statusReport().totals
    let threads = ProcessThreads.current() ?? 0
    replicator.stop()
    done.wait()
    print(String(format: "ferry:        %9.0f records/s  %6.2f µs CPU/record  peak memory %.0f MB  %d threads  (%d records in %.2f s; %d puts, %d deletes after coalescing, %d batches, %d page faults)",
                 Double(records) / wall, cpu * 1e6 / Double(records), Clock.peakRSSMegabytes(), threads, records, wall,
                 totals.put, totals.deleted, totals.batches, faults))
    let ferryPerCPUSecond = Double(records) / cpu

    // The usual recipe: a Lambda handler that does one PutItem per record.
    let (fields, text) = runComparisonScript("lambda_style.py",
                                             [servers.sourceURL, servers.streamArn, servers.sinkURL, String(lambdaRecords)])
    servers.stop()
    guard let rate = fields["records_per_s"], let cpuPer = fields["cpu_us_per_record"] else {
        print("lambda-style script failed: \(text)")
        return
    }
    print(String(format: "lambda-style: %9.0f records/s  %6.2f µs CPU/record  (python3 + boto3, one PutItem per record, %d records)",
                 rate, cpuPer, lambdaRecords))
    print(String(format: "per core: ferry applies %.0f records per CPU-second, the Lambda-style script %.0f: %.0fx",
                 ferryPerCPUSecond, 1e6 / cpuPer, ferryPerCPUSecond / (1e6 / cpuPer)))
}

/// Runs one of the Python comparison scripts beside this file and reads
/// its `name=value` output line.
func runComparisonScript(_ name: String, _ arguments: [String]) -> ([String: Double], String) {
    let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent(name).path
    let python = Process()
    python.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    python.arguments = ["python3", script] + arguments
    let out = Pipe()
    python.standardOutput = out
    try! python.run()
    python.waitUntilExit()
    let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    let fields = Dictionary(uniqueKeysWithValues: text.split(separator: " ").compactMap { part -> (String, Double)? in
        let kv = part.split(separator: "=")
        guard kv.count == 2, let v = Double(kv[1].trimmingCharacters(in: .whitespacesAndNewlines)) else { return nil }
        return (String(kv[0]), v)
    })
    return (fields, text)
}

/// Wraps the target and records, for every put it acknowledges, the time
/// from the record's creation (attribute `t`, µs) to the acknowledgement.
final class LagProbe: TargetWriter {
    let inner: any TargetWriter
    let samples = Mutex<[Double]>([])

    init(_ inner: any TargetWriter) { self.inner = inner }

    func batchWrite(_ writes: [WriteRequest]) throws(AWSClientError) -> [WriteRequest] {
        let left = try inner.batchWrite(writes)
        let now = Date().timeIntervalSince1970 * 1_000_000
        var lags: [Double] = []
        for w in writes {
            guard case .put(let bytes) = w, let item = try? DynamoJSONReader.readItem(Array(bytes)),
                  let t = item["t"]?.numberText.flatMap(Double.init) else { continue }
            lags.append((now - t) / 1000)
        }
        samples.withLock { $0 += lags }
        return left
    }

    func update(body: [UInt8]) throws(AWSClientError) { try inner.update(body: body) }
}

/// Lag from record creation to target acknowledgement at a steady rate.
func runLagBenchmark() {
    let rate = option("--rate").flatMap(Int.init) ?? 2000
    let seconds = option("--seconds").flatMap(Double.init) ?? 20
    let shards = option("--shards").flatMap(Int.init) ?? 4
    let dir = NSTemporaryDirectory() + "ferry-bench-lag-\(getpid())"
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    print("lag benchmark: \(rate) records/s for \(Int(seconds)) s over \(shards) shards, idle backoff cap 1 s (the default); release build")
    let servers = LoopbackServers.start(["serve-steady", "--rate", String(rate), "--seconds", String(seconds), "--shards", String(shards)])
    var probe: LagProbe?
    let (replicator, target, pool) = makeReplicator(servers, dir: dir, viewType: .newImage, lanes: 8, batch: 100) { inner in
        let p = LagProbe(inner)
        probe = p
        return p
    }
    let cpu0 = cpuSecondsSelf()
    let done = DispatchSemaphore(value: 0)
    DispatchQueue.global().async { _ = replicator.run(target: target, poolOptions: pool); done.signal() }
    let finished = LoopbackServers.readLine(servers.output)
    Thread.sleep(forTimeInterval: 1)
    replicator.stop()
    done.wait()
    let cpu = cpuSecondsSelf() - cpu0
    servers.stop()
    var lags = probe!.samples.withLock { $0 }
    // Leave out the first second: the readers start from an empty stream.
    lags = Array(lags.dropFirst(min(lags.count, rate)))
    lags.sort()
    guard !lags.isEmpty else { print("no samples (\(finished))"); return }
    func pct(_ p: Double) -> Double { lags[min(lags.count - 1, Int(Double(lags.count) * p))] }
    print(String(format: "lag (ms): p50 %.0f  p90 %.0f  p99 %.0f  max %.0f over %d records; ferry CPU %.1f%% of one core",
                 pct(0.5), pct(0.9), pct(0.99), lags.last!, lags.count, cpu / (seconds + 1) * 100))
}
