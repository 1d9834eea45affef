import AWSClient
import Dispatch
import DynamoModel
import Foundation
import Logging
@testable import Replication
import StreamStandIn
import Synchronization
import XCTest

/// The real ``StreamReplicator`` between two tables of one ``StreamStandIn``:
/// `src` (with a stream) and `dst` (the target, no stream), reached with the
/// real clients over libcurl. Checkpoint, status and dead-letter files live
/// in a fresh temporary directory.
///
/// Set `FERRY_TEST_LOG=1` to see the replicator's log on stderr.
final class StreamHarness {
    static let source = "src"
    static let target = "dst"

    let standIn: StreamStandIn
    let spec: StandInTableSpec
    let streamArn: String
    let directory: String
    let streams: DynamoDBStreamsClient
    let dynamo: DynamoDBClient
    /// Retries and give-ups of the clients' own retry policy (GetRecords,
    /// DescribeStream, GetShardIterator, GetItem; not the lanes' writes).
    let clientRetries = RetryCounters()

    var checkpointPath: String { directory + "/checkpoint.json" }
    var statusPath: String { directory + "/status.json" }
    var deadLetterPath: String { directory + "/dead-letters.jsonl" }

    init(shards: Int = 1, view: StandInStreamView = .newAndOldImages,
         configuration: StandInConfiguration = StandInConfiguration()) throws {
        standIn = try StreamStandIn(configuration: configuration)
        spec = StandInTableSpec(Self.source, stream: view, shardCount: shards)
        streamArn = try standIn.createTable(spec)!
        try standIn.createTable(StandInTableSpec(Self.target, stream: nil))
        let template = NSTemporaryDirectory() + "ferry-stream-XXXXXX"
        var bytes = Array(template.utf8CString)
        guard let made = mkdtemp(&bytes) else { throw CocoaError(.fileWriteUnknown) }
        directory = String(cString: made)

        let credentials = StaticCredentialProvider(accessKeyId: "a", secretAccessKey: "b")
        let transport = CurlHTTPClient(options: HTTPClientOptions(connectTimeout: 2, totalTimeout: 10))
        let retry = RetryPolicy(maxAttempts: 4, backoff: Backoff(transientBase: 0.001, throttlingBase: 0.001, cap: 0.05),
                                onEvent: clientRetries.record)
        streams = DynamoDBStreamsClient(
            endpoint: Endpoint(url: standIn.baseURL, region: "us-east-1", service: .dynamodbStreams, isCustom: true),
            credentials: credentials, transport: transport, retry: retry)
        dynamo = DynamoDBClient(
            endpoint: Endpoint(url: standIn.baseURL, region: "us-east-1", service: .dynamodb, isCustom: true),
            credentials: credentials, transport: transport, retry: retry)
    }

    /// Stops the server and removes the temporary directory.
    func close() {
        standIn.stop()
        try? FileManager.default.removeItem(atPath: directory)
    }

    // MARK: - Settings

    var viewType: StreamViewType {
        StreamViewType(rawValue: spec.stream!.rawValue)!
    }

    /// Production settings shrunk so a test takes a second or two.
    func options(_ configure: (inout StreamReplicatorOptions) -> Void = { _ in }) -> StreamReplicatorOptions {
        let mapping = MappingOptions(targetTable: Self.target, keySchema: spec.keySchema, viewType: viewType)
        var options = StreamReplicatorOptions(streamArn: streamArn, mapping: mapping)
        options.discoveryInterval = 0.2
        options.checkpointInterval = 0.1
        options.idleBackoffMax = 0.05
        options.getRecordsLimit = 7
        options.drainDeadline = 5
        options.sourceTable = Self.source
        options.statusPath = statusPath
        options.version = "test"
        configure(&options)
        return options
    }

    func poolOptions(_ configure: (inout WriterPoolOptions) -> Void = { _ in }) -> WriterPoolOptions {
        var pool = WriterPoolOptions()
        pool.lanes = 3
        pool.batchSize = 5
        pool.lingerSeconds = 0.002
        pool.laneCapacity = 16
        pool.backoff = Backoff(transientBase: 0.001, throttlingBase: 0.001, cap: 0.02)
        configure(&pool)
        return pool
    }

    static func logger() -> Logger {
        if ProcessInfo.processInfo.environment["FERRY_TEST_LOG"] != nil {
            var logger = Logger(label: "ferry.test") { StreamLogHandler.standardError(label: $0) }
            logger.logLevel = .debug
            return logger
        }
        return Logger(label: "ferry.test", factory: { _ in SwiftLogNoOpLogHandler() })
    }

    /// Starts a replicator on a background queue, with the checkpoint,
    /// status and dead-letter files of this harness.
    func start(_ options: StreamReplicatorOptions? = nil, pool: WriterPoolOptions? = nil) throws -> ReplicatorRun {
        let counters = ReplicationCounters()
        let replicator = try StreamReplicator(
            options: options ?? self.options(), streams: streams, source: dynamo,
            checkpoints: FileCheckpointStore(path: checkpointPath), counters: counters,
            deadLetters: try DeadLetterFile(path: deadLetterPath), logger: Self.logger())
        let target = AlternatorTarget(table: Self.target, clients: [dynamo])
        return ReplicatorRun(replicator: replicator, counters: counters, target: target,
                             pool: pool ?? poolOptions())
    }

    // MARK: - Source writes (test API: no HTTP, no faults)

    func put(_ items: [Item]) throws {
        try standIn.put(table: Self.source, items: items)
    }

    func delete(_ keys: [String]) throws {
        try standIn.delete(table: Self.source, keys: keys.map { ["pk": .s($0)] })
    }

    // MARK: - Observations

    /// Source and target compared item by item.
    func comparison() throws -> StandInTableComparison {
        try standIn.compareTables(Self.source, Self.target)
    }

    /// How the target differs from the source, for failure messages.
    var differences: String {
        (try? comparison()).map { "\($0)" } ?? "(tables unreadable)"
    }

    /// Polls every 50 ms until `condition` holds or `timeout` passes.
    func eventually(timeout: Double = 10, _ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = monotonicSeconds() + timeout
        while true {
            if try condition() { return true }
            if monotonicSeconds() > deadline { return false }
            usleep(50_000)
        }
    }

    /// Waits until the target holds exactly what the source holds.
    func waitForTargetToEqualSource(timeout: Double = 10, file: StaticString = #filePath, line: UInt = #line) throws {
        let converged = try eventually(timeout: timeout) { try comparison().isIdentical }
        if !converged {
            XCTFail("target did not converge on the source: \(try comparison())", file: file, line: line)
        }
    }

    func checkpoint() throws -> Checkpoint? {
        try FileCheckpointStore(path: checkpointPath).load()
    }

    func status() throws -> StatusReport? {
        try StatusReport.read(path: statusPath)
    }

    /// The dead-letter file's lines, decoded.
    func deadLetters() throws -> [[String: Any]] {
        guard let bytes = try AtomicFile.read(deadLetterPath) else { return [] }
        return try String(decoding: bytes, as: UTF8.self).split(separator: "\n").map { line in
            try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
        }
    }

    /// The target's applied writes of one key: the `v` number of each put,
    /// -1 for a delete, in the order the target applied them.
    func targetVersions(of pk: String) throws -> [Int] {
        try standIn.appliedWrites(table: Self.target, key: ["pk": .s(pk)]).map { write in
            guard let item = write.item else { return -1 }
            return Int(item["v"]?.numberText ?? "") ?? -2
        }
    }

    /// Every record of a shard, read with a client of its own.
    func records(ofShard shard: String) throws -> [StreamRecord] {
        var iterator: String? = try streams.getShardIterator(arn: streamArn, shardId: shard, position: .trimHorizon)
        var records: [StreamRecord] = []
        while let current = iterator {
            let page = try streams.getRecords(iterator: current, limit: 1000)
            records += page.records
            iterator = page.nextShardIterator
            if page.records.isEmpty { break }
        }
        return records
    }
}

/// One replicator running on a background queue.
final class ReplicatorRun: Sendable {
    let replicator: StreamReplicator
    let counters: ReplicationCounters
    private let result = Mutex<ReplicationOutcome?>(nil)
    private let done = DispatchSemaphore(value: 0)

    init(replicator: StreamReplicator, counters: ReplicationCounters, target: AlternatorTarget, pool: WriterPoolOptions) {
        self.replicator = replicator
        self.counters = counters
        DispatchQueue(label: "ferry.test.replicator").async { [self] in
            let outcome = replicator.run(target: target, poolOptions: pool)
            result.withLock { $0 = outcome }
            done.signal()
        }
    }

    /// The outcome once `run` has returned by itself; nil when it is still
    /// running after `timeout` seconds.
    func outcome(within timeout: Double) -> ReplicationOutcome? {
        guard done.wait(timeout: .now() + timeout) == .success else { return nil }
        done.signal()
        return result.withLock { $0 }
    }

    /// Asks the replicator to stop and waits for `run` to return.
    func stop(file: StaticString = #filePath, line: UInt = #line) -> ReplicationOutcome? {
        replicator.stop()
        let outcome = outcome(within: 15)
        if outcome == nil { XCTFail("the replicator did not stop within 15 s", file: file, line: line) }
        return outcome
    }
}

/// `{pk, v, …}`: an item of the tests' tables.
func streamItem(_ pk: String, v: Int, _ more: Item = [:]) -> Item {
    var item = more
    item["pk"] = .s(pk)
    item["v"] = .n(String(v))
    return item
}

/// Key number `i` for tests with several shards. The stand-in routes keys
/// to shards by the high bits of a 64-bit FNV-1a hash, which barely move
/// when only the last byte of a short key changes ("k1", "k2", …); the
/// suffix spreads the keys over the shards.
func spreadKey(_ i: Int) -> String { "k\(i)-hashed" }
