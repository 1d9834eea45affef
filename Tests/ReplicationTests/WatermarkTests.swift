import Replication
import XCTest

final class WatermarkTests: XCTestCase {
    private func seq(_ n: Int) -> SequenceNumber { SequenceNumber(String(n))! }

    func testCheckpoint_waitsForTheOldestRecordInFlight() {
        var w = Watermark()
        let t = [10, 20, 30].map { w.issue(seq($0)) }
        w.acknowledge(ticket: t[2])
        w.acknowledge(ticket: t[1])
        XCTAssertNil(w.checkpoint, "record 10 is still in flight")
        w.acknowledge(ticket: t[0])
        XCTAssertEqual(w.checkpoint, seq(30))
        XCTAssertEqual(w.inFlight, 0)
    }

    func testCheckpoint_advancesOverAcknowledgedPrefixOnly() {
        var w = Watermark(checkpoint: seq(5))
        let t = [10, 20, 30, 40].map { w.issue(seq($0)) }
        w.acknowledge(ticket: t[0])
        w.acknowledge(ticket: t[2])
        XCTAssertEqual(w.checkpoint, seq(10))
        w.acknowledge(ticket: t[1])
        XCTAssertEqual(w.checkpoint, seq(30))
    }

    func testReplay_atOrBelowTheCheckpointOrTheRequestedPosition() {
        let w = Watermark(checkpoint: seq(100))
        XCTAssertTrue(w.isReplay(seq(100), eventID: "a", floor: w.checkpoint))
        XCTAssertTrue(w.isReplay(seq(99), eventID: "b", floor: w.checkpoint))
        XCTAssertFalse(w.isReplay(seq(101), eventID: "c", floor: w.checkpoint))
        XCTAssertTrue(w.isReplay(seq(150), eventID: "d", floor: seq(150)), "at the position the iterator was asked for")
        XCTAssertFalse(w.isReplay(seq(151), eventID: "d", floor: seq(150)))
    }

    func testRepeatedSequenceNumber_withANewEventID_isNew_andBothRecordsAreAcknowledgedOnTheirOwn() {
        var w = Watermark()
        let first = w.issue(seq(7), eventID: "e1")
        XCTAssertFalse(w.isReplay(seq(7), eventID: "e2", floor: nil), "same number, another record")
        XCTAssertTrue(w.isReplay(seq(7), eventID: "e1", floor: nil), "the same record delivered again")
        let second = w.issue(seq(7), eventID: "e2")
        XCTAssertEqual(w.inFlight, 2)
        w.acknowledge(ticket: second)
        XCTAssertNil(w.checkpoint, "the first record with number 7 is still in flight")
        w.acknowledge(ticket: first)
        XCTAssertEqual(w.checkpoint, seq(7))
        XCTAssertEqual(w.inFlight, 0, "a repeated number never leaves a record unacknowledgeable")
    }

    func testFallingSequenceNumber_neverMovesTheCheckpointBack() {
        var w = Watermark()
        let a = w.issue(seq(50), eventID: "a")
        XCTAssertFalse(w.isReplay(seq(40), eventID: "b", floor: nil))
        let b = w.issue(seq(40), eventID: "b")
        XCTAssertEqual(w.highestIssued, seq(50))
        w.acknowledge(ticket: a)
        w.acknowledge(ticket: b)
        XCTAssertEqual(w.checkpoint, seq(50))
    }

    func testWithinAnIteratorChain_aNewRecordBelowTheCheckpoint_isNew_butAReplayedEventIDIsNot() {
        var w = Watermark(checkpoint: seq(10))
        let a = w.issue(seq(20), eventID: "a")
        w.acknowledge(ticket: a)
        XCTAssertEqual(w.checkpoint, seq(20))
        // The chain was opened after 10: a new record numbered 19 arrives on the next page.
        XCTAssertFalse(w.isReplay(seq(19), eventID: "b", floor: seq(10)))
        XCTAssertTrue(w.isReplay(seq(20), eventID: "a", floor: seq(10)), "record a, delivered again")
        XCTAssertTrue(w.isReplay(seq(19), eventID: "b", floor: seq(20)), "a chain opened after 20")
    }

    func testAcknowledgingTwice_orAnUnknownTicket_changesNothing() {
        var w = Watermark()
        let a = w.issue(seq(1))
        _ = w.issue(seq(2))
        w.acknowledge(ticket: a)
        w.acknowledge(ticket: a)
        w.acknowledge(ticket: 99)
        XCTAssertEqual(w.inFlight, 1)
        XCTAssertEqual(w.checkpoint, seq(1))
    }

    func testManyRecords_compactAndStayCorrect() {
        var w = Watermark()
        let tickets = (1...5000).map { w.issue(seq($0)) }
        // Acknowledge evens first, then odds: the checkpoint only moves with the odds.
        for n in stride(from: 2, through: 5000, by: 2) { w.acknowledge(ticket: tickets[n - 1]) }
        XCTAssertNil(w.checkpoint)
        for n in stride(from: 1, through: 4999, by: 2) {
            w.acknowledge(ticket: tickets[n - 1])
            XCTAssertEqual(w.checkpoint, seq(n + 1))
        }
        XCTAssertEqual(w.inFlight, 0)
        let last = w.issue(seq(5001))
        w.acknowledge(ticket: last)
        XCTAssertEqual(w.checkpoint, seq(5001))
    }
}
