import DynamoModel
import Replication
import XCTest

final class BatchTests: XCTestCase {
    private func change(_ kind: Change.Kind, _ key: String, _ payload: String, seq: Int) -> Change {
        Change(kind: kind, key: Self.key(key), payload: Array(payload.utf8),
               origin: .init(source: "shard-1", sequence: SequenceNumber(String(seq))!, ticket: seq))
    }

    static func key(_ s: String) -> ItemKey { try! KeySchema(partitionKey: "pk").key(of: ["pk": .s(s)]) }

    func testLastChangePerKey_wins_andKeepsItsSlot() {
        var batch = Batch(capacity: 25)
        XCTAssertTrue(batch.add(change(.put, "a", "a1", seq: 1)))
        XCTAssertTrue(batch.add(change(.put, "b", "b1", seq: 2)))
        XCTAssertTrue(batch.add(change(.delete, "a", "a-key", seq: 3)))
        XCTAssertEqual(batch.writes.map { String(decoding: $0.payload, as: UTF8.self) }, ["a-key", "b1"])
        XCTAssertEqual(batch.writes.first?.kind, .delete)
        XCTAssertEqual(batch.changeCount, 3, "the replaced change is still acknowledged with the batch")
        XCTAssertEqual(batch.origins.map(\.sequence.digits), ["1", "2", "3"])
    }

    func testFullBatch_refusesNewKey_butMergesKnownKey() {
        var batch = Batch(capacity: 2)
        XCTAssertTrue(batch.add(change(.put, "a", "1", seq: 1)))
        XCTAssertTrue(batch.add(change(.put, "b", "1", seq: 2)))
        XCTAssertTrue(batch.isFull)
        XCTAssertFalse(batch.add(change(.put, "c", "1", seq: 3)))
        XCTAssertTrue(batch.add(change(.put, "a", "2", seq: 4)))
        XCTAssertEqual(batch.writes.count, 2)
    }

    func testRetain_keepsOnlyUnprocessedWrites() {
        var batch = Batch(capacity: 25)
        for (i, k) in ["a", "b", "c"].enumerated() { _ = batch.add(change(.put, k, k, seq: i + 1)) }
        batch.retain(keys: [Self.key("b")])
        XCTAssertEqual(batch.writes.map(\.key), [Self.key("b")])
        XCTAssertEqual(batch.changeCount, 3)
        XCTAssertTrue(batch.add(change(.put, "b", "b2", seq: 9)))
        XCTAssertEqual(batch.writes.count, 1)
    }

    func testLanes_areStableAndSpread() {
        var counts = [Int](repeating: 0, count: 8)
        for i in 0..<8000 {
            let key = Self.key("user#\(i)")
            XCTAssertEqual(key.lane(count: 8), Self.key("user#\(i)").lane(count: 8))
            counts[key.lane(count: 8)] += 1
        }
        for c in counts { XCTAssertGreaterThan(c, 800, "lanes: \(counts)") }
    }
}
