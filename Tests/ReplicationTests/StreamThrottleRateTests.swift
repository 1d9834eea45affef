import DynamoModel
import Foundation
@testable import Replication
import StreamStandIn
import XCTest

/// The pool-wide write rate through the whole replicator, against the
/// fault-injecting stand-in as the target.
final class StreamThrottleRateTests: XCTestCase {
    func testThrottlingTarget_lowersTheWriteRate_inTheCountersAndStatus_andNothingIsLost() throws {
        let h = try StreamHarness(shards: 2)
        defer { h.close() }
        let throttled = h.standIn.inject(.throttling(on: [.batchWriteItem], times: 8))
        let run = try h.start(pool: h.poolOptions { $0.maxWriteUnitsPerSecond = 400 })
        try h.put((0..<100).map { streamItem(spreadKey($0), v: 1) })
        try h.waitForTargetToEqualSource(timeout: 30)
        XCTAssertEqual(run.stop(), .stopped)

        XCTAssertEqual(h.standIn.firedCount(throttled), 8)
        let totals = run.counters.snapshot
        XCTAssertGreaterThanOrEqual(totals.throttles, 8, "every throttled attempt counted")
        XCTAssertEqual(totals.put, 100, "every change applied once acknowledged")
        XCTAssertEqual(totals.writeUnits, 100, "one WCU per small put")
        XCTAssertLessThan(totals.writeRateLimit, 400, "halved at least once")
        XCTAssertGreaterThanOrEqual(totals.writeRateLimit, 25, "never below the floor")
        let status = try XCTUnwrap(try h.status())
        XCTAssertEqual(status.totals.writeRateLimit, totals.writeRateLimit, "the status file shows the rate allowed now")
    }
}
