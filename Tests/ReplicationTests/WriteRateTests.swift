import DynamoModel
@testable import Replication
import Synchronization
import XCTest

/// Seconds that move only when a test (or an injected sleep) moves them.
final class ManualSeconds: Sendable {
    private let value: Mutex<Double>
    private let reads = Atomic<Int>(0)
    init(_ start: Double = 1000) { value = Mutex(start) }
    var now: Double { reads.add(1, ordering: .relaxed); return value.withLock { $0 } }
    func advance(_ seconds: Double) { value.withLock { $0 += seconds } }
    /// How often the clock was read.
    var readCount: Int { reads.load(ordering: .relaxed) }
}

final class WriteRateTests: XCTestCase {
    // MARK: - TokenBucket

    func testBucket_givesABurstOfOneSecond_thenWaitsForTheRate() {
        var bucket = TokenBucket(rate: 100, now: 0)
        XCTAssertEqual(bucket.take(60, now: 0), 0)
        XCTAssertEqual(bucket.take(40, now: 0), 0)
        XCTAssertEqual(bucket.take(50, now: 0), 0.5, accuracy: 1e-9)
        XCTAssertEqual(bucket.take(50, now: 0.25), 0.25, accuracy: 1e-9, "nothing was taken by the refused ask")
        XCTAssertEqual(bucket.take(50, now: 0.5), 0)
    }

    func testBucket_aTakeBiggerThanTheBurst_isGrantedWhenFull_andLeavesADebt() {
        var bucket = TokenBucket(rate: 25, now: 0)
        XCTAssertEqual(bucket.take(400, now: 0), 0, "one 400 KB item is never refused for good")
        XCTAssertEqual(bucket.take(25, now: 0), (375.0 + 25) / 25, accuracy: 1e-9, "the debt is waited out first")
    }

    func testBucket_neverHoldsMoreThanASecond_andSetRateKeepsEarnedTokensUpToTheNewBurst() {
        var bucket = TokenBucket(rate: 10, now: 0, full: false)
        XCTAssertGreaterThan(bucket.take(10, now: 0), 0, "starts empty")
        XCTAssertEqual(bucket.take(10, now: 100), 0)
        XCTAssertGreaterThan(bucket.take(1, now: 100), 0, "100 idle seconds earned one second's worth, no more")
        bucket.setRate(4, now: 200)
        XCTAssertEqual(bucket.take(4, now: 200), 0)
        XCTAssertEqual(bucket.take(4, now: 200), 1, accuracy: 1e-9)
    }

    // MARK: - WriteRateCore (AIMD)

    func testCore_withoutMaximum_hasNoLimitUntilThrottled() {
        var core = WriteRateCore(settings: .init(), now: 0)
        XCTAssertNil(core.limit)
        for i in 0..<1000 { XCTAssertEqual(core.take(1000, now: Double(i) / 1000), 0) }
    }

    func testCore_throttling_halvesTheMeasuredRate_onceForAnswersArrivingTogether() {
        var core = WriteRateCore(settings: .init(), now: 0)
        core.throttled(now: 10, measuredRate: 800)
        XCTAssertEqual(core.limit, 400)
        XCTAssertGreaterThan(core.take(1, now: 10), 0, "the bucket starts empty: slow down at once")
        core.throttled(now: 10.2, measuredRate: 800)
        core.throttled(now: 10.9, measuredRate: 800)
        XCTAssertEqual(core.limit, 400, "four lanes throttled at once are one event")
        core.throttled(now: 11.0, measuredRate: 800)
        XCTAssertEqual(core.limit, 200)
    }

    func testCore_neverGoesBelowTheFloor() {
        var core = WriteRateCore(settings: .init(maximum: 1000), now: 0)
        for second in 1...20 { core.throttled(now: Double(second), measuredRate: 0) }
        XCTAssertEqual(core.limit, 25)
        var unlimited = WriteRateCore(settings: .init(), now: 0)
        unlimited.throttled(now: 1, measuredRate: 3)
        XCTAssertEqual(unlimited.limit, 25, "a tiny measured rate still leaves one batch a second")
    }

    func testCore_risesOneStepPerQuietInterval_upToTheMaximum() {
        var core = WriteRateCore(settings: .init(maximum: 1000), now: 0)
        XCTAssertEqual(core.limit, 1000)
        core.throttled(now: 10, measuredRate: 0)
        core.throttled(now: 11, measuredRate: 0)
        XCTAssertEqual(core.limit, 250)
        _ = core.take(1, now: 15.9)
        XCTAssertEqual(core.limit, 250, "not quiet for 5 s yet")
        _ = core.take(1, now: 16)
        XCTAssertEqual(core.limit, 350, "one step: a tenth of the maximum")
        _ = core.take(1, now: 17)
        XCTAssertEqual(core.limit, 350, "one step per quiet interval")
        core.throttled(now: 18, measuredRate: 0)
        XCTAssertEqual(core.limit, 175)
        var t = 18.0
        var seen: [Double] = []
        while t < 100 {
            t += 5
            _ = core.take(1, now: t)
            seen.append(core.limit!)
        }
        XCTAssertEqual(Array(seen.prefix(3)), [275, 375, 475], "additive")
        XCTAssertEqual(seen.last, 1000, "back to the maximum")
        XCTAssertEqual(seen.max(), 1000, "never above it")
    }

    func testCore_withoutMaximum_limitGoesAwayOnceWellAboveTheThrottledRate() {
        var core = WriteRateCore(settings: .init(), now: 0)
        core.throttled(now: 0, measuredRate: 1000)
        XCTAssertEqual(core.limit, 500)
        var t = 0.0
        var steps = 0
        while core.limit != nil && steps < 100 {
            t += 5
            _ = core.take(1, now: t)
            steps += 1
        }
        XCTAssertNil(core.limit)
        XCTAssertEqual(steps, 16, "500 + 15 steps of 100 reaches 2000; the 16th passes it")
        XCTAssertEqual(core.take(1_000_000, now: t), 0)
    }

    // MARK: - WriteRate (the shell)

    func testWriteRate_withoutLimit_neverReadsTheClockOrSleeps_onTheFastPath() {
        let clock = ManualSeconds()
        let slept = Atomic<Int>(0)
        let rate = WriteRate(settings: .init(), clock: { clock.now }, sleep: { _ in slept.add(1, ordering: .relaxed) })
        let readsAtStart = clock.readCount
        for _ in 0..<40 { XCTAssertTrue(rate.take(25, isAborting: { false })) }  // 1000 units: no sample due
        XCTAssertEqual(clock.readCount, readsAtStart, "no clock, no lock: one atomic add per batch")
        XCTAssertEqual(slept.load(ordering: .relaxed), 0)
        XCTAssertNil(rate.limit)
    }

    func testWriteRate_keepsTheMaximum_inTheInjectedClock() {
        let clock = ManualSeconds()
        let start = clock.now
        let rate = WriteRate(settings: .init(maximum: 50), clock: { clock.now }, sleep: { clock.advance($0) })
        var taken = 0
        for _ in 0..<20 {
            XCTAssertTrue(rate.take(25, isAborting: { false }))
            taken += 25
            XCTAssertLessThanOrEqual(Double(taken), 50 + 50 * (clock.now - start) + 1e-6, "burst plus rate × time")
        }
        XCTAssertGreaterThanOrEqual(clock.now - start, (500.0 - 50) / 50 - 1e-6)
    }

    func testWriteRate_firstCutHalvesTheRateMeasuredBeforeIt_andReportsEachNewLimit() {
        let clock = ManualSeconds()
        let limits = Mutex<[Double?]>([])
        let rate = WriteRate(settings: .init(), clock: { clock.now }, sleep: { clock.advance($0) },
                             onLimit: { l in limits.withLock { $0.append(l) } })
        for _ in 0..<100 {  // 400 units per second for 10 s
            clock.advance(0.1)
            XCTAssertTrue(rate.take(40, isAborting: { false }))
        }
        rate.throttled()
        let limit = try? XCTUnwrap(rate.limit)
        XCTAssertNotNil(limit)
        XCTAssertEqual(limit ?? 0, 200, accuracy: 40, "about half of 400 WCU/s")
        XCTAssertEqual(limits.withLock { $0.count }, 2, "nil at start, then the cut")
    }

    func testWriteRate_abortStopsAWait() {
        let clock = ManualSeconds()
        let rate = WriteRate(settings: .init(maximum: 25), clock: { clock.now }, sleep: { _ in })
        XCTAssertTrue(rate.take(25, isAborting: { false }))
        XCTAssertFalse(rate.take(25, isAborting: { true }))
    }

    func testWriteUnits_areKilobytesRoundedUp_deletesOne() {
        func change(_ kind: Change.Kind, bytes: Int) -> Change {
            Change(kind: kind, key: try! KeySchema(partitionKey: "pk").key(of: ["pk": .s("k")]),
                   payload: [UInt8](repeating: 0x20, count: bytes), origin: nil)
        }
        XCTAssertEqual(BatchSender.writeUnits([change(.put, bytes: 10)]), 1)
        XCTAssertEqual(BatchSender.writeUnits([change(.put, bytes: 1024)]), 1)
        XCTAssertEqual(BatchSender.writeUnits([change(.put, bytes: 1025)]), 2)
        XCTAssertEqual(BatchSender.writeUnits([change(.put, bytes: 400 * 1024)]), 400)
        XCTAssertEqual(BatchSender.writeUnits([change(.delete, bytes: 5000)]), 1)
        XCTAssertEqual(BatchSender.writeUnits([change(.put, bytes: 3000), change(.delete, bytes: 20)]), 4)
    }
}
