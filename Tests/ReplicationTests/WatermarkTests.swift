import Replication
import XCTest

final class WatermarkTests: XCTestCase {
    private func seq(_ n: Int) -> SequenceNumber { SequenceNumber(String(n))! }

    func testCheckpoint_waitsForTheOldestRecordInFlight() {
        var w = Watermark()
        for n in [10, 20, 30] { XCTAssertTrue(w.issue(seq(n))) }
        w.acknowledge(seq(30))
        w.acknowledge(seq(20))
        XCTAssertNil(w.checkpoint, "record 10 is still in flight")
        w.acknowledge(seq(10))
        XCTAssertEqual(w.checkpoint, seq(30))
        XCTAssertEqual(w.inFlight, 0)
    }

    func testCheckpoint_advancesOverAcknowledgedPrefixOnly() {
        var w = Watermark(checkpoint: seq(5))
        for n in [10, 20, 30, 40] { _ = w.issue(seq(n)) }
        w.acknowledge(seq(10))
        w.acknowledge(seq(30))
        XCTAssertEqual(w.checkpoint, seq(10))
        w.acknowledge(seq(20))
        XCTAssertEqual(w.checkpoint, seq(30))
    }

    func testIssue_refusesReplayedOrOlderRecords() {
        var w = Watermark(checkpoint: seq(100))
        XCTAssertFalse(w.issue(seq(100)))
        XCTAssertFalse(w.issue(seq(99)))
        XCTAssertTrue(w.issue(seq(101)))
        XCTAssertFalse(w.issue(seq(101)))
    }

    func testManyRecords_compactAndStayCorrect() {
        var w = Watermark()
        for n in 1...5000 { _ = w.issue(seq(n)) }
        // Acknowledge evens first, then odds: the checkpoint only moves with the odds.
        for n in stride(from: 2, through: 5000, by: 2) { w.acknowledge(seq(n)) }
        XCTAssertNil(w.checkpoint)
        for n in stride(from: 1, through: 4999, by: 2) {
            w.acknowledge(seq(n))
            XCTAssertEqual(w.checkpoint, seq(n + 1))
        }
        XCTAssertEqual(w.inFlight, 0)
        XCTAssertTrue(w.issue(seq(5001)))
        w.acknowledge(seq(5001))
        XCTAssertEqual(w.checkpoint, seq(5001))
    }
}
