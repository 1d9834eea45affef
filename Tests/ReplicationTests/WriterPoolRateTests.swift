import AWSClient
import DynamoModel
import Foundation
@testable import Replication
import Synchronization
import XCTest

/// The writer pool's write rate against a ``FakeTarget``: every call's
/// write units and time (on an injected clock that only the limiter's
/// sleeps move, so nothing depends on how fast the machine is).
final class WriterPoolRateTests: XCTestCase {
    private let schema = KeySchema(partitionKey: "pk")

    /// Calls the target saw: (clock seconds since start, write units, throttled).
    final class CallLog: Sendable {
        private let calls = Mutex<[(time: Double, units: Int, throttled: Bool)]>([])
        func add(_ time: Double, _ units: Int, _ throttled: Bool) { calls.withLock { $0.append((time, units, throttled)) } }
        var all: [(time: Double, units: Int, throttled: Bool)] { calls.withLock { $0 } }
    }

    /// Every limit a rate reported (nil: none).
    final class LimitLog: Sendable {
        private let list = Mutex<[Double?]>([])
        func add(_ limit: Double?) { list.withLock { $0.append(limit) } }
        var all: [Double?] { list.withLock { $0 } }
    }

    static func units(_ writes: [WriteRequest]) -> Int {
        writes.reduce(0) { sum, w in
            switch w {
            case .put(let b): return sum + max(1, (b.count + 1023) / 1024)
            case .delete: return sum + 1
            }
        }
    }

    private func change(_ n: Int, padding: Int = 0, delete: Bool = false) -> Change {
        var item: Item = ["pk": .s("key\(n)"), "v": .n(String(n))]
        if padding > 0 { item["pad"] = .s(String(repeating: "x", count: padding)) }
        var w = DynamoJSONWriter()
        w.writeItem(delete ? ["pk": .s("key\(n)")] : item)
        return Change(kind: delete ? .delete : .put, key: try! schema.key(of: ["pk": .s("key\(n)")]), payload: w.bytes,
                      origin: .init(source: "shard", sequence: SequenceNumber(String(n))!, ticket: n))
    }

    private func pool(_ target: FakeTarget, rate: WriteRate, writers: Int, batch: Int, counters: ReplicationCounters,
                      acked: Acks) -> WriterPool {
        var options = WriterPoolOptions()
        options.lanes = 4
        options.writers = writers
        options.batchSize = batch
        options.lingerSeconds = 0.001
        options.backoff = Backoff(transientBase: 0.0005, throttlingBase: 0.0005, cap: 0.002)
        return WriterPool(options: options, target: target, keySchema: schema, counters: counters, deadLetters: nil,
                          onApplied: { acked.add($0.map { Int($0.sequence.digits)! }) }, writeRate: rate)
    }

    func testMaxWriteUnits_theBucketIsRespected_perCallWriteUnitsOverTime() {
        let clock = ManualSeconds()
        let start = clock.now
        let log = CallLog()
        let target = FakeTarget { _, writes in
            log.add(clock.now - start, Self.units(writes), false)
            return nil
        }
        let rate = WriteRate(settings: .init(maximum: 100), clock: { clock.now }, sleep: { clock.advance($0) })
        let counters = ReplicationCounters()
        let acked = Acks()
        let pool = pool(target, rate: rate, writers: 3, batch: 10, counters: counters, acked: acked)
        // Small puts (1 WCU), 2.5 KB puts (3 WCU) and deletes (1 WCU).
        let changes = (1...600).map { n in change(n, padding: n % 3 == 0 ? 2500 : 0, delete: n % 7 == 0) }
        pool.submit(contentsOf: changes)
        XCTAssertTrue(pool.drain(deadline: .now() + 30))

        XCTAssertEqual(Set(1...600).subtracting(acked.all).count, 0, "every change acknowledged")
        let calls = log.all.sorted { $0.time < $1.time }
        let total = calls.reduce(0) { $0 + $1.units }
        XCTAssertEqual(total, changes.reduce(0) { $0 + BatchSender.writeUnits([$1]) }, "no faults: each write sent once")
        XCTAssertEqual(counters.snapshot.writeUnits, total)
        XCTAssertGreaterThan(total, 900, "enough to need the bucket for several seconds")
        var sent = 0
        for call in calls {
            sent += call.units
            XCTAssertLessThanOrEqual(Double(sent), 100 + 100 * call.time + 1e-6,
                                     "\(sent) WCU by \(call.time) s: more than a second's burst plus 100 WCU/s")
        }
        XCTAssertGreaterThanOrEqual(clock.now - start, Double(total - 100) / 100 - 1e-6)
    }

    /// Sends `count` 1-WCU puts, batches of 10, to a target that throttles
    /// every call until its clock reaches `until` seconds; returns the calls.
    private func runThrottled(settings: WriteRateCore.Settings, count: Int, until: Double,
                              limits: LimitLog? = nil) -> (calls: [(time: Double, units: Int, throttled: Bool)],
                                                                  counters: ReplicationCounters.Totals, acked: [Int],
                                                                  applied: Int) {
        let clock = ManualSeconds()
        let start = clock.now
        let log = CallLog()
        let target = FakeTarget { _, writes in
            let t = clock.now - start
            let throttle = t < until
            log.add(t, Self.units(writes), throttle)
            return throttle ? .failure(FakeTarget.serviceError("ProvisionedThroughputExceededException")) : nil
        }
        let rate = WriteRate(settings: settings, clock: { clock.now }, sleep: { clock.advance($0) },
                             onLimit: { limits?.add($0) })
        let counters = ReplicationCounters()
        let acked = Acks()
        let pool = pool(target, rate: rate, writers: 2, batch: 10, counters: counters, acked: acked)
        pool.submit(contentsOf: (1...count).map { change($0) })
        XCTAssertTrue(pool.drain(deadline: .now() + 60))
        return (log.all, counters.snapshot, acked.all, target.state.withLock { $0.items.count })
    }

    func testThrottling_slowsThePoolDown_andEveryChangeIsStillAppliedAndAcknowledged() {
        let limits = LimitLog()
        let adaptive = runThrottled(settings: .init(maximum: 200), count: 1500, until: 10, limits: limits)
        var fixed = WriteRateCore.Settings(maximum: 200)
        fixed.floor = 200  // a cut changes nothing: the bucket alone, as without AIMD
        let control = runThrottled(settings: fixed, count: 1500, until: 10)

        for run in [adaptive, control] {
            XCTAssertEqual(Set(1...1500).subtracting(run.acked).count, 0, "every change acknowledged, none lost")
            XCTAssertEqual(run.applied, 1500)
            XCTAssertEqual(run.counters.throttles, run.calls.filter(\.throttled).count, "each throttled attempt counted")
            XCTAssertEqual(run.counters.put, 1500)
        }
        let adaptiveThrottled = adaptive.calls.filter(\.throttled).count
        let controlThrottled = control.calls.filter(\.throttled).count
        // The bucket alone lets 200 + 200 × 10 WCU through in 10 s: up to
        // 220 attempts of 10 WCU. Halving to the floor of 25 WCU/s within
        // a few seconds leaves well under half of that.
        XCTAssertGreaterThan(controlThrottled, 150)
        XCTAssertLessThan(adaptiveThrottled, 90)
        XCTAssertLessThan(adaptiveThrottled * 2, controlThrottled, "fewer attempts while the target throttles")

        let seen = limits.all.compactMap { $0 }
        XCTAssertEqual(seen.first, 200)
        XCTAssertEqual(seen.min(), 25, "halved down to the floor")
        let afterFloor = seen.drop { $0 > 25 }.drop { $0 == 25 }
        XCTAssertEqual(afterFloor.first, 50, "then one additive step of 25 after a quiet interval")
        XCTAssertEqual(Array(afterFloor), Array(afterFloor).sorted(), "and only up once the throttling ended")
    }
}
