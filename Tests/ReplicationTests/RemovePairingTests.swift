import DynamoModel
@testable import Replication
import XCTest

/// ``RemovePairing`` with no network: which REMOVEs fold into the put after
/// them, which are queued, which wait for the next page.
final class RemovePairingTests: XCTestCase {
    private var ticket = 0

    private func change(_ kind: Change.Kind, _ pk: String) throws -> Change {
        ticket += 1
        let key = try KeySchema(partitionKey: "pk").key(of: ["pk": .s(pk)])
        return Change(kind: kind, key: key, payload: [],
                      origin: Change.Origin(source: "s", sequence: SequenceNumber("\(100 + ticket)")!, ticket: ticket))
    }

    private func tickets(_ changes: [Change]) -> [Int] { changes.compactMap { $0.origin?.ticket } }

    func testRemove_followedByAPutOfTheSameKey_isNotWritten_andItsOriginIsAcknowledged() throws {
        var pairing = RemovePairing(held: nil)
        pairing.add(try change(.delete, "a"), fromRemove: true)
        pairing.add(try change(.put, "a"), fromRemove: false)
        XCTAssertNil(pairing.finish(shardContinues: true))
        XCTAssertEqual(tickets(pairing.changes), [2])
        XCTAssertEqual(pairing.dropped.map(\.ticket), [1])
    }

    func testRemove_followedByAnUpdate_aDeleteOrAnotherKey_isQueuedBeforeIt() throws {
        var pairing = RemovePairing(held: nil)
        pairing.add(try change(.delete, "a"), fromRemove: true)      // 1
        pairing.add(try change(.update, "a"), fromRemove: false)     // 2: an update does not recreate the item
        pairing.add(try change(.delete, "b"), fromRemove: true)      // 3
        pairing.add(try change(.put, "c"), fromRemove: false)        // 4: another key
        pairing.add(try change(.delete, "d"), fromRemove: true)      // 5
        pairing.add(try change(.delete, "d"), fromRemove: true)      // 6: a put's REMOVE after a real delete
        pairing.add(try change(.put, "d"), fromRemove: false)        // 7
        XCTAssertNil(pairing.finish(shardContinues: true))
        XCTAssertEqual(tickets(pairing.changes), [1, 2, 3, 4, 5, 7])
        XCTAssertEqual(pairing.dropped.map(\.ticket), [6])
    }

    func testRemove_followedByARecordThatWritesNothing_isQueued() throws {
        var pairing = RemovePairing(held: nil)
        pairing.add(try change(.delete, "a"), fromRemove: true)
        pairing.addNothing()                                         // a TTL expiry skipped, say
        pairing.add(try change(.put, "a"), fromRemove: false)
        XCTAssertNil(pairing.finish(shardContinues: true))
        XCTAssertEqual(tickets(pairing.changes), [1, 2])
        XCTAssertTrue(pairing.dropped.isEmpty)
    }

    func testADeleteFromAFetch_neverWaits() throws {
        var pairing = RemovePairing(held: nil)
        pairing.add(try change(.delete, "a"), fromRemove: false)     // a MODIFY whose item the source no longer has
        XCTAssertNil(pairing.finish(shardContinues: true))
        XCTAssertEqual(tickets(pairing.changes), [1])
    }

    func testRemove_endingAPage_isHeldWhileTheShardGoesOn_andPairedWithTheNextPagesFirstRecord() throws {
        var first = RemovePairing(held: nil)
        first.add(try change(.put, "x"), fromRemove: false)
        first.add(try change(.delete, "a"), fromRemove: true)
        let held = try XCTUnwrap(first.finish(shardContinues: true))
        XCTAssertEqual(tickets(first.changes), [1], "the REMOVE is neither queued nor acknowledged")
        XCTAssertTrue(first.dropped.isEmpty)

        var second = RemovePairing(held: held)
        second.add(try change(.put, "a"), fromRemove: false)
        second.add(try change(.put, "b"), fromRemove: false)
        XCTAssertNil(second.finish(shardContinues: true))
        XCTAssertEqual(tickets(second.changes), [3, 4])
        XCTAssertEqual(second.dropped.map(\.ticket), [2])
    }

    func testAHeldRemove_isQueuedFirst_whenTheNextPageStartsWithSomethingElse() throws {
        var first = RemovePairing(held: nil)
        first.add(try change(.delete, "a"), fromRemove: true)
        let held = try XCTUnwrap(first.finish(shardContinues: true))
        var second = RemovePairing(held: held)
        second.add(try change(.put, "b"), fromRemove: false)
        second.add(try change(.delete, "c"), fromRemove: true)
        let heldAgain = try XCTUnwrap(second.finish(shardContinues: true), "the new REMOVE ending the page waits")
        XCTAssertEqual(tickets(second.changes), [1, 2])
        XCTAssertEqual(heldAgain.origin?.ticket, 3)
    }

    func testAHeldRemove_isQueued_byAPageWithoutAcceptedRecords_orTheShardsEnd() throws {
        var first = RemovePairing(held: nil)
        first.add(try change(.delete, "a"), fromRemove: true)
        let held = try XCTUnwrap(first.finish(shardContinues: true))
        var empty = RemovePairing(held: held)
        XCTAssertNil(empty.finish(shardContinues: true), "held for one page only")
        XCTAssertEqual(tickets(empty.changes), [1])

        var last = RemovePairing(held: nil)
        last.add(try change(.delete, "b"), fromRemove: true)
        XCTAssertNil(last.finish(shardContinues: false), "a shard read to its end keeps nothing back")
        XCTAssertEqual(tickets(last.changes), [2])
    }
}
