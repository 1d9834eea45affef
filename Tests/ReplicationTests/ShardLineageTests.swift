import Replication
import XCTest

final class ShardLineageTests: XCTestCase {
    func testChild_waitsUntilParentDrained() {
        var lineage = ShardLineage()
        let start = lineage.discovered([
            ShardDescriptor(id: "parent", endingSequence: SequenceNumber("100")),
            ShardDescriptor(id: "child-a", parentId: "parent"),
            ShardDescriptor(id: "child-b", parentId: "parent"),
        ])
        XCTAssertEqual(start, ["parent"])
        lineage.started("parent")
        XCTAssertEqual(lineage.startable(), [])
        XCTAssertEqual(lineage.drained("parent"), ["child-a", "child-b"])
    }

    func testParentAgedOut_doesNotBlockChild() {
        var lineage = ShardLineage()
        XCTAssertEqual(lineage.discovered([ShardDescriptor(id: "child", parentId: "gone")]), ["child"])
    }

    func testParentFinishedInCheckpoint_allowsChild_andIsNotReadAgain() {
        var lineage = ShardLineage(finished: ["parent"])
        let start = lineage.discovered([
            ShardDescriptor(id: "parent", endingSequence: SequenceNumber("5")),
            ShardDescriptor(id: "child", parentId: "parent"),
        ])
        XCTAssertEqual(start, ["child"])
    }

    func testGrandchild_waitsForItsOwnParent() {
        var lineage = ShardLineage()
        _ = lineage.discovered([
            ShardDescriptor(id: "a", endingSequence: SequenceNumber("1")),
            ShardDescriptor(id: "b", parentId: "a", endingSequence: SequenceNumber("2")),
            ShardDescriptor(id: "c", parentId: "b"),
        ])
        lineage.started("a")
        XCTAssertEqual(lineage.drained("a"), ["b"])
        lineage.started("b")
        XCTAssertEqual(lineage.startable(), [])
        XCTAssertEqual(lineage.drained("b"), ["c"])
    }

    func testRediscovery_doesNotRestartRunningShards() {
        var lineage = ShardLineage()
        let shards = [ShardDescriptor(id: "s1"), ShardDescriptor(id: "s2")]
        XCTAssertEqual(lineage.discovered(shards), ["s1", "s2"])
        lineage.started("s1")
        lineage.started("s2")
        XCTAssertEqual(lineage.discovered(shards), [])
        lineage.finished("s1")
        XCTAssertEqual(lineage.unfinished, ["s2"])
    }
}
