import DynamoModel
import Replication
import XCTest

final class UnitTrackerTests: XCTestCase {
    func testApplied_isAPrefix_andPagesGiveResumeKeys() {
        let tracker = UnitTracker()
        tracker.start("seg-0", applied: 0)
        let page1 = (0..<3).map { _ in tracker.next("seg-0") }
        tracker.markPage("seg-0", continuation: ["pk": .s("c")])
        let page2 = (0..<2).map { _ in tracker.next("seg-0") }
        tracker.markPage("seg-0", continuation: nil)
        tracker.finishReading("seg-0")

        tracker.applied([page1[0], page1[2], page2[0]])
        var s = tracker.snapshot("seg-0")!
        XCTAssertEqual(s.applied, 1)
        XCTAssertNil(s.resumeKey, "page 1 is not all applied yet")
        tracker.applied([page1[1]])
        s = tracker.snapshot("seg-0")!
        XCTAssertEqual(s.applied, 4)
        XCTAssertEqual(s.resumeKey, ["pk": .s("c")])
        XCTAssertEqual(s.resumeAt, 3)
        XCTAssertFalse(s.complete)
        tracker.applied([page2[1]])
        s = tracker.snapshot("seg-0")!
        XCTAssertTrue(s.complete)
        XCTAssertEqual(s.applied, 5)
    }

    func testResume_startsNumberingAfterTheAppliedPrefix() {
        let tracker = UnitTracker()
        tracker.start("file-a", applied: 40)
        let origin = tracker.next("file-a")
        XCTAssertEqual(origin.sequence.digits, "41")
        tracker.applied([origin])
        XCTAssertEqual(tracker.snapshot("file-a")?.applied, 41)
    }
}
