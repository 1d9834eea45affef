import AWSClient
import DynamoModel
import Foundation
@testable import Replication
import StreamStandIn
import XCTest

/// A stream that breaks its ordering contract (moto's, with two clients
/// writing at once): repeated and falling sequence numbers, pages
/// delivered twice. Nothing may be lost in silence.
final class StreamOrderingTests: XCTestCase {
    func testRepeatedAndFallingSequenceNumbers_areApplied_counted_andReplayedPagesAreNotAppliedTwice() throws {
        var configuration = StandInConfiguration()
        configuration.sequenceAnomalies = StandInSequenceAnomalies(repeatEvery: 7, fallEvery: 11, replayPageEvery: 3)
        let h = try StreamHarness(shards: 1, configuration: configuration)
        defer { h.close() }
        try h.put((0..<300).map { streamItem("k\($0)", v: 1) })
        let shard = try h.standIn.openShardIDs(table: StreamHarness.source)[0]

        // What the stream holds, read once without the replays: count the
        // records whose number does not rise above every one before them.
        var expectedOutOfOrder = 0
        var highest: SequenceNumber?
        var seen = Set<String>()
        for record in try h.records(ofShard: shard) where seen.insert(record.eventID ?? "").inserted {
            let seq = try XCTUnwrap(SequenceNumber(record.sequenceNumber))
            if let top = highest, seq <= top { expectedOutOfOrder += 1 } else { highest = seq }
        }
        XCTAssertEqual(seen.count, 300)
        XCTAssertGreaterThan(expectedOutOfOrder, 20, "the stand-in must produce anomalies for this test to mean anything")

        let run = try h.start()
        try h.waitForTargetToEqualSource()
        XCTAssertEqual(run.stop(), .stopped)
        let totals = run.counters.snapshot
        XCTAssertEqual(totals.inserted, 300, "every record applied once, replays not counted again")
        XCTAssertEqual(totals.outOfOrder, expectedOutOfOrder)
        XCTAssertGreaterThan(totals.read, 300, "replayed pages were read")
        XCTAssertEqual(try h.standIn.appliedWrites(table: StreamHarness.target).count, 300,
                       "a replayed record is not written again")
        // The shard's checkpoint reached its highest number: the repeated
        // numbers did not leave records unacknowledged.
        XCTAssertEqual(try h.checkpoint()?.shards[shard]?.sequence, highest)
        let status = try XCTUnwrap(h.status())
        XCTAssertEqual(status.totals.outOfOrder, expectedOutOfOrder)
        XCTAssertEqual(status.shards.first?.recordsApplied, 300)
    }
}
