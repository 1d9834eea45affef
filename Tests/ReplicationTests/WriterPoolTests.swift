import AWSClient
import Dispatch
import DynamoModel
import Foundation
@testable import Replication
import Synchronization
import XCTest

/// A target that applies writes to a dictionary, with scriptable faults.
final class FakeTarget: TargetWriter {
    struct State {
        var items: [String: String] = [:]         // pk -> "v" attribute
        var history: [String: [Int]] = [:]        // pk -> versions in the order applied
        var calls = 0
        var maxBatch = 0
    }
    let state = Mutex(State())
    /// Decides per call: nil applies everything; otherwise an error or the unprocessed subset.
    let fault: @Sendable (_ call: Int, _ writes: [WriteRequest]) -> Result<[WriteRequest], AWSClientError>?
    let gate = DispatchSemaphore(value: 1)
    let schema = KeySchema(partitionKey: "pk")

    init(fault: @escaping @Sendable (Int, [WriteRequest]) -> Result<[WriteRequest], AWSClientError>? = { _, _ in nil }) {
        self.fault = fault
    }

    func batchWrite(_ writes: [WriteRequest]) throws(AWSClientError) -> [WriteRequest] {
        gate.wait(); gate.signal()
        let call = state.withLock { $0.calls += 1; $0.maxBatch = max($0.maxBatch, writes.count); return $0.calls }
        var unprocessed: [WriteRequest] = []
        if let outcome = fault(call, writes) {
            switch outcome {
            case .failure(let e): throw e
            case .success(let left): unprocessed = left
            }
        }
        let leftKeys = Set(unprocessed.map(Self.pk))
        for w in writes where !leftKeys.contains(Self.pk(w)) {
            switch w {
            case .put(let bytes):
                let item = try! DynamoJSONReader.readItem(Array(bytes))
                let pk = item["pk"]!.stringValue!, v = item["v"]!.numberText!
                state.withLock { $0.items[pk] = v; $0.history[pk, default: []].append(Int(v)!) }
            case .delete:
                let pk = Self.pk(w)
                state.withLock { $0.items[pk] = nil; $0.history[pk, default: []].append(-1) }
            }
        }
        return unprocessed
    }

    func update(body: [UInt8]) throws(AWSClientError) {}

    static func pk(_ w: WriteRequest) -> String {
        switch w {
        case .put(let b), .delete(key: let b): return try! DynamoJSONReader.readItem(Array(b))["pk"]!.stringValue!
        }
    }

    static func serviceError(_ code: String, status: Int = 400) -> AWSClientError {
        .service(AWSServiceError(code: code, message: "\(code) from fake", status: status, operation: "BatchWriteItem", host: "fake"))
    }
}

/// Sequence numbers acknowledged by a pool.
final class Acks: Sendable {
    private let list = Mutex<[Int]>([])
    func add(_ more: [Int]) { list.withLock { $0 += more } }
    var all: [Int] { list.withLock { $0 } }
}

final class WriterPoolTests: XCTestCase {
    private let schema = KeySchema(partitionKey: "pk")

    private func change(_ pk: String, version: Int, seq: Int, delete: Bool = false, extra: String = "") -> Change {
        let item: Item = delete ? ["pk": .s(pk)] : ["pk": .s(pk), "v": .n(String(version))]
        var w = DynamoJSONWriter()
        w.writeItem(extra.isEmpty ? item : item.merging(["poison": .s(extra)]) { a, _ in a })
        return Change(kind: delete ? .delete : .put, key: try! schema.key(of: ["pk": .s(pk)]), payload: w.bytes,
                      origin: .init(source: "shard", sequence: SequenceNumber(String(seq))!, ticket: seq))
    }

    private func pool(_ target: FakeTarget, lanes: Int = 4, batch: Int = 25, capacity: Int = 1000,
                      deadLetters: DeadLetterFile? = nil, acked: Acks) -> (WriterPool, ReplicationCounters) {
        var options = WriterPoolOptions()
        options.lanes = lanes
        options.batchSize = batch
        options.laneCapacity = capacity
        options.lingerSeconds = 0.002
        options.backoff = Backoff(transientBase: 0.001, throttlingBase: 0.001, cap: 0.01)
        let counters = ReplicationCounters()
        let pool = WriterPool(options: options, target: target, keySchema: schema, counters: counters,
                              deadLetters: deadLetters, onApplied: { origins in
                                  acked.add(origins.map { Int($0.sequence.digits)! })
                              })
        return (pool, counters)
    }

    func testCancel_dropsOneSourcesQueuedChanges_keepsTheOthersInOrder_andNeverRecallsWhatIsBeingSent() {
        let target = FakeTarget()
        let acked = Mutex<[String]>([])
        var options = WriterPoolOptions()
        options.lanes = 1
        options.writers = 1
        options.lingerSeconds = 0
        let pool = WriterPool(options: options, target: target, keySchema: schema, counters: ReplicationCounters(),
                              deadLetters: nil, onApplied: { origins in acked.withLock { $0 += origins.map(\.source) } })
        func change(_ source: String, _ n: Int) -> Change {
            var w = DynamoJSONWriter()
            w.writeItem(["pk": .s("\(source)\(n)"), "v": .n("1")])
            return Change(kind: .put, key: try! schema.key(of: ["pk": .s("\(source)\(n)")]), payload: w.bytes,
                          origin: .init(source: source, sequence: SequenceNumber(String(n))!, ticket: n))
        }
        target.gate.wait()  // the writer blocks inside its first request
        pool.submit(change("a", 0))
        XCTAssertTrue(waitUntil { target.state.withLock { $0.calls } == 0 && pool.queued == 0 })
        pool.submit(contentsOf: (1...9).flatMap { [change("a", $0), change("b", $0)] })
        XCTAssertEqual(pool.cancel(source: "a"), 9)
        XCTAssertEqual(pool.queued, 9)
        target.gate.signal()
        XCTAssertTrue(pool.drain(deadline: .now() + 5))
        XCTAssertEqual(acked.withLock { $0 }.filter { $0 == "a" }.count, 1, "the change being sent when the shard was cancelled")
        XCTAssertEqual(acked.withLock { $0 }.filter { $0 == "b" }.count, 9)
        XCTAssertEqual(Set(target.state.withLock { $0.items.keys }), Set(["a0"] + (1...9).map { "b\($0)" }))
    }

    func testAdmission_refusedSourcesAreDroppedAtSendTime_unacknowledged() {
        let target = FakeTarget()
        let acked = Mutex<[String]>([])
        let allowed = Mutex<Set<String>>(["a", "b"])
        var options = WriterPoolOptions()
        options.lanes = 2
        options.writers = 1
        let pool = WriterPool(options: options, target: target, keySchema: schema, counters: ReplicationCounters(),
                              deadLetters: nil, onApplied: { origins in acked.withLock { $0 += origins.map(\.source) } })
        pool.admit { source in allowed.withLock { $0.contains(source) } }
        func change(_ source: String, _ n: Int) -> Change {
            var w = DynamoJSONWriter()
            w.writeItem(["pk": .s("\(source)\(n)"), "v": .n("1")])
            return Change(kind: .put, key: try! schema.key(of: ["pk": .s("\(source)\(n)")]), payload: w.bytes,
                          origin: .init(source: source, sequence: SequenceNumber(String(n + 1))!, ticket: n))
        }
        pool.submit(contentsOf: (0..<5).flatMap { [change("a", $0), change("b", $0)] })
        pool.flush()
        _ = allowed.withLock { $0.remove("a") }  // a's lease ran out
        pool.submit(contentsOf: (5..<10).flatMap { [change("a", $0), change("b", $0)] })
        XCTAssertTrue(pool.drain(deadline: .now() + 5))
        let sources = acked.withLock { $0 }
        XCTAssertEqual(sources.filter { $0 == "a" }.count, 5, "only what was sent while a was allowed")
        XCTAssertEqual(sources.filter { $0 == "b" }.count, 10)
        XCTAssertFalse(target.state.withLock { $0.items.keys.contains("a7") })
        XCTAssertTrue(target.state.withLock { $0.items.keys.contains("b7") })
    }

    func testAdmission_lostWhileABatchIsRetried_theRetrySendsOnlyTheShardsStillHeld() {
        let allowed = Mutex<Set<String>>(["a", "b"])
        let sent = Mutex<[[String]]>([])
        // The first attempt is not processed at all; the lease on a runs out during its backoff.
        let target = FakeTarget { call, writes in
            sent.withLock { $0.append(writes.map(FakeTarget.pk)) }
            guard call == 1 else { return nil }
            _ = allowed.withLock { $0.remove("a") }
            return .success(writes)
        }
        let acked = Mutex<[String]>([])
        var options = WriterPoolOptions()
        options.lanes = 1
        options.writers = 1
        options.backoff = Backoff(transientBase: 0.001, throttlingBase: 0.001, cap: 0.01)
        let pool = WriterPool(options: options, target: target, keySchema: schema, counters: ReplicationCounters(),
                              deadLetters: nil, onApplied: { origins in acked.withLock { $0 += origins.map(\.source) } })
        pool.admit { source in allowed.withLock { $0.contains(source) } }
        pool.submit(contentsOf: (0..<3).flatMap { n in ["a", "b"].map { source in
            var w = DynamoJSONWriter()
            w.writeItem(["pk": .s("\(source)\(n)"), "v": .n("1")])
            return Change(kind: .put, key: try! schema.key(of: ["pk": .s("\(source)\(n)")]), payload: w.bytes,
                          origin: .init(source: source, sequence: SequenceNumber(String(n + 1))!, ticket: n))
        } })
        XCTAssertTrue(pool.drain(deadline: .now() + 5))
        let attempts = sent.withLock { $0 }
        XCTAssertEqual(attempts.count, 2, "\(attempts)")
        XCTAssertEqual(attempts.first.map { Set($0) }, ["a0", "a1", "a2", "b0", "b1", "b2"])
        XCTAssertEqual(attempts.last.map { Set($0) }, ["b0", "b1", "b2"], "the retry leaves a out")
        XCTAssertEqual(acked.withLock { $0 }.sorted(), ["b", "b", "b"], "a's changes are not acknowledged")
        XCTAssertEqual(Set(target.state.withLock { $0.items.keys }), ["b0", "b1", "b2"])
    }

    private func waitUntil(_ condition: () -> Bool) -> Bool {
        for _ in 0..<200 { if condition() { return true }; usleep(5_000) }
        return condition()
    }

    func testPerKeyOrder_isKept_andLastVersionWins() {
        let target = FakeTarget()
        let acked = Acks()
        let (pool, counters) = pool(target, acked: acked)
        var seq = 0
        for version in 1...200 {
            for k in 0..<37 {
                seq += 1
                pool.submit(change("k\(k)", version: version, seq: seq))
            }
        }
        XCTAssertTrue(pool.drain(deadline: .now() + 10))
        let state = target.state.withLock { $0 }
        for k in 0..<37 {
            XCTAssertEqual(state.items["k\(k)"], "200")
            let history = state.history["k\(k)"] ?? []
            XCTAssertEqual(history, history.sorted(), "versions of k\(k) applied out of order")
        }
        XCTAssertLessThanOrEqual(state.maxBatch, 25)
        XCTAssertEqual(Set(acked.all), Set(1...seq), "every change acknowledged, coalesced ones too")
        XCTAssertEqual(counters.snapshot.put, state.history.values.reduce(0) { $0 + $1.count })
    }

    func testUnprocessedItems_areRetriedUntilApplied() {
        let target = FakeTarget { call, writes in
            call <= 6 ? .success(writes.enumerated().filter { $0.offset % 2 == 0 }.map(\.element)) : nil
        }
        let acked = Acks()
        let (pool, counters) = pool(target, lanes: 1, acked: acked)
        for i in 1...60 { pool.submit(change("key\(i)", version: i, seq: i)) }
        XCTAssertTrue(pool.drain(deadline: .now() + 10))
        let items = target.state.withLock { $0.items }
        XCTAssertEqual(items.count, 60)
        XCTAssertEqual(acked.all.sorted(), Array(1...60))
        XCTAssertGreaterThan(counters.snapshot.throttles, 0)
    }

    func testThrottlingAnd5xx_areRetried() {
        let target = FakeTarget { call, _ in
            switch call {
            case 1: return .failure(FakeTarget.serviceError("ThrottlingException"))
            case 2: return .failure(FakeTarget.serviceError("InternalServerError", status: 500))
            case 3: return .failure(.http(HTTPError(kind: .connectionReset, host: "fake", operation: "BatchWriteItem", detail: "reset")))
            default: return nil
            }
        }
        let acked = Acks()
        let (pool, counters) = pool(target, lanes: 1, acked: acked)
        for i in 1...10 { pool.submit(change("key\(i)", version: i, seq: i)) }
        XCTAssertTrue(pool.drain(deadline: .now() + 10))
        XCTAssertEqual(target.state.withLock { $0.items.count }, 10)
        XCTAssertEqual(counters.snapshot.throttles, 1)
        XCTAssertEqual(counters.snapshot.retries, 2)
        XCTAssertEqual(acked.all.count, 10)
    }

    func testInvalidItem_goesToDeadLetterFile_andTheRestIsApplied() throws {
        let target = FakeTarget { _, writes in
            let poisoned = writes.contains { w in
                if case .put(let b) = w { return String(decoding: b, as: UTF8.self).contains("poison") }
                return false
            }
            return poisoned ? .failure(FakeTarget.serviceError("ValidationException")) : nil
        }
        let path = NSTemporaryDirectory() + "ferry-dlq-\(UUID().uuidString).jsonl"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let dead = try DeadLetterFile(path: path)
        let acked = Acks()
        let (pool, counters) = pool(target, lanes: 1, deadLetters: dead, acked: acked)
        for i in 1...10 { pool.submit(change("key\(i)", version: i, seq: i, extra: i == 4 ? "x" : "")) }
        XCTAssertTrue(pool.drain(deadline: .now() + 10))
        XCTAssertEqual(target.state.withLock { $0.items.count }, 9)
        XCTAssertEqual(counters.snapshot.deadLettered, 1)
        XCTAssertEqual(acked.all.sorted(), Array(1...10), "the shard moves on past the dead letter")
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, 1)
        XCTAssertTrue(lines[0].contains(#""sequence":"4""#), String(lines[0]))
        XCTAssertTrue(lines[0].contains(#""keys":{"pk":{"S":"key4"}}"#), String(lines[0]))
        XCTAssertTrue(lines[0].contains("ValidationException"), String(lines[0]))
        XCTAssertFalse(lines[0].contains("poison"), "item values stay out of the dead-letter reason")
    }

    func testAccessDenied_stopsThePool_withoutAcknowledging() {
        let target = FakeTarget { _, _ in .failure(FakeTarget.serviceError("AccessDeniedException")) }
        let acked = Acks()
        let (pool, _) = pool(target, lanes: 2, acked: acked)
        for i in 1...10 { pool.submit(change("key\(i)", version: i, seq: i)) }
        pool.flush()
        XCTAssertEqual(pool.fatalError?.error.serviceError?.code, "AccessDeniedException")
        pool.drain(deadline: .now() + 5)
        XCTAssertEqual(acked.all, [])
    }

    func testFullLanes_makeSubmitWait() {
        let target = FakeTarget()
        target.gate.wait()  // the target hangs
        let acked = Acks()
        let (pool, _) = pool(target, lanes: 1, batch: 1, capacity: 100, acked: acked)
        let submitted = Atomic<Int>(0)
        let done = DispatchSemaphore(value: 0)
        let changes = (1...500).map { change("key\($0)", version: $0, seq: $0) }
        DispatchQueue.global().async {
            for c in changes {
                pool.submit(c)
                submitted.add(1, ordering: .relaxed)
            }
            done.signal()
        }
        Thread.sleep(forTimeInterval: 0.3)
        let stuck = submitted.load(ordering: .relaxed)
        XCTAssertLessThanOrEqual(stuck, 102, "at most the lane's capacity (plus the batch in hand) is queued")
        target.gate.signal()
        XCTAssertEqual(done.wait(timeout: .now() + 10), .success)
        XCTAssertTrue(pool.drain(deadline: .now() + 10))
        XCTAssertEqual(acked.all.count, 500)
    }

    func testDrainDeadline_givesUpWithoutAcknowledging() {
        let target = FakeTarget { _, _ in .failure(FakeTarget.serviceError("ThrottlingException")) }
        let acked = Acks()
        let (pool, _) = pool(target, lanes: 1, acked: acked)
        for i in 1...5 { pool.submit(change("key\(i)", version: i, seq: i)) }
        let start = Date()
        XCTAssertFalse(pool.drain(deadline: .now() + 0.3))
        XCTAssertLessThan(Date().timeIntervalSince(start), 3)
        XCTAssertEqual(acked.all, [])
    }
}
