import AWSClient
import DynamoModel
import Foundation
@testable import Replication
import StreamStandIn
import XCTest

/// The lease table against moto: every change is a conditional write on
/// the owner and the counter; heartbeat rows live beside the shard rows.
final class MotoLeaseTableTests: XCTestCase {
    private func client() throws -> DynamoDBClient {
        guard let url = ProcessInfo.processInfo.environment["FERRY_MOTO_ENDPOINT"], !url.isEmpty else {
            throw NSError(domain: "ferry", code: 1, userInfo: [NSLocalizedDescriptionKey:
                "FERRY_MOTO_ENDPOINT is not set: run the tests with scripts/test.sh, which starts moto"])
        }
        return DynamoDBClient(endpoint: Endpoint(url: url, region: "us-east-1", service: .dynamodb, isCustom: true),
                              credentials: StaticCredentialProvider(accessKeyId: "AKIDLEASE", secretAccessKey: "lease-test"),
                              transport: CurlHTTPClient(), retry: RetryPolicy(maxAttempts: 3))
    }

    func testTwoWorkers_neverBothHoldAShard_andOnlyTheHolderMovesItsCheckpoint() throws {
        try twoWorkers(try client())
    }

    /// The stand-in's conditional writes behave as moto's (the benchmarks
    /// use the stand-in as a fast lease store).
    func testTheStandInAsTheLeaseStore_behavesTheSame() throws {
        let standIn = try StreamStandIn()
        defer { standIn.stop() }
        try twoWorkers(DynamoDBClient(endpoint: Endpoint(url: standIn.baseURL, region: "us-east-1", service: .dynamodb, isCustom: true),
                                      credentials: StaticCredentialProvider(accessKeyId: "a", secretAccessKey: "b"),
                                      transport: CurlHTTPClient(), retry: RetryPolicy(maxAttempts: 2)))
    }

    private func twoWorkers(_ dynamo: DynamoDBClient) throws {
        let name = "ferry-leases-\(UUID().uuidString.prefix(8))"
        let a = LeaseTable(client: dynamo, table: name, streamArn: "arn:stream/1", workerId: "host-a:1")
        let b = LeaseTable(client: dynamo, table: name, streamArn: "arn:stream/1", workerId: "host-b:2")
        try a.ensureTable(inAlternator: false)
        try b.ensureTable(inAlternator: false)  // exists: fine
        let other = LeaseTable(client: dynamo, table: name, streamArn: "arn:stream/2", workerId: "host-a:1")

        XCTAssertTrue(try a.create(LeaseRow(shardId: "s1", parents: ["s0"])))
        XCTAssertFalse(try b.create(LeaseRow(shardId: "s1")), "a second create does not overwrite")
        XCTAssertTrue(try other.create(LeaseRow(shardId: "s1")))
        let row = try XCTUnwrap(try a.readAll().first { $0.shardId == "s1" })
        XCTAssertEqual(row, LeaseRow(shardId: "s1", owner: nil, counter: 0, parents: ["s0"]))
        XCTAssertEqual(try other.readAll().count, 1, "rows of another stream are not mixed in")

        XCTAssertTrue(try a.beat(counter: 7), "the first beat puts the row")
        XCTAssertTrue(try a.beat(counter: 8, lagSeconds: 4.26), "then updates it, with the worker's lag")
        XCTAssertTrue(try b.beat(counter: 1))
        let snapshot = try a.read()
        XCTAssertEqual(snapshot.rows.map(\.shardId), ["s1"], "heartbeat rows are never shards")
        XCTAssertEqual(snapshot.heartbeats.sorted { $0.worker < $1.worker },
                       [LeaseHeartbeat(worker: "host-a:1", counter: 8, lagSeconds: 4.3), LeaseHeartbeat(worker: "host-b:2", counter: 1)])
        XCTAssertEqual(try other.read().heartbeats, [], "heartbeats of another stream are not mixed in")
        XCTAssertFalse(try b.deleteHeartbeat(of: "host-a:1", counter: 7), "a beat since: not stale")
        XCTAssertTrue(try b.deleteHeartbeat(of: "host-a:1", counter: 8))
        XCTAssertTrue(try a.beat(counter: 9), "a worker that wakes writes its row anew")
        XCTAssertTrue(try b.deleteHeartbeat(of: "host-b:2", counter: nil), "a clean stop deletes its own")
        XCTAssertEqual(try a.read().heartbeats, [LeaseHeartbeat(worker: "host-a:1", counter: 9)])

        XCTAssertTrue(try a.create(LeaseRow(shardId: "s2", owner: "host-a:1", counter: 1)), "created already owned")
        XCTAssertFalse(try b.create(LeaseRow(shardId: "s2", owner: "host-b:2", counter: 1)), "the second create loses")
        XCTAssertEqual(try a.readAll().first { $0.shardId == "s2" }?.owner, "host-a:1")

        let held = try XCTUnwrap(try a.take(row))
        XCTAssertEqual(held.owner, "host-a:1")
        XCTAssertNil(try b.take(row), "b saw the row before a took it: its condition fails")
        XCTAssertFalse(try b.writeCheckpoint("s1", sequence: SequenceNumber("100"), finished: false))
        XCTAssertTrue(try a.writeCheckpoint("s1", sequence: SequenceNumber("100"), finished: false))

        // b takes over once a's lease expired (b saw the counter stand still): from a's checkpoint.
        let seen = try XCTUnwrap(try b.readAll().first { $0.shardId == "s1" })
        XCTAssertEqual(seen.checkpoint, SequenceNumber("100"))
        let stolen = try XCTUnwrap(try b.take(seen))
        XCTAssertFalse(try a.release("s1", counter: held.counter, checkpoint: nil), "a lost it")
        XCTAssertFalse(try a.writeCheckpoint("s1", sequence: SequenceNumber("200"), finished: true),
                       "a worker that lost the lease can no longer move its checkpoint")
        XCTAssertTrue(try b.release("s1", counter: stolen.counter, checkpoint: SequenceNumber("150")))
        let released = try XCTUnwrap(try a.readAll().first { $0.shardId == "s1" })
        XCTAssertNil(released.owner)
        XCTAssertEqual(released.checkpoint, SequenceNumber("150"))
        XCTAssertFalse(try a.delete("s1"), "only a finished row is deleted")
        let again = try XCTUnwrap(try a.take(released))
        XCTAssertTrue(try a.writeCheckpoint("s1", sequence: SequenceNumber("160"), finished: true))
        _ = again
        XCTAssertTrue(try a.delete("s1"))
        XCTAssertEqual(try a.readAll().map(\.shardId), ["s2"])
    }

    func testAlternatorStore_isTaggedForIsolatedWrites_andAnUntaggedTableIsRefusedClearly() throws {
        let dynamo = try client()
        let name = "ferry-leases-\(UUID().uuidString.prefix(8))"
        let leases = LeaseTable(client: dynamo, table: name, streamArn: "arn:stream/1", workerId: "w")
        try leases.ensureTable(inAlternator: true)
        let arn = try XCTUnwrap(try dynamo.describeTable(name).tableArn)
        XCTAssertEqual(try dynamo.listTags(arn: arn)["system:write_isolation"], "always_use_lwt")
        try leases.ensureTable(inAlternator: true)  // the check passes on the tagged table

        let bare = "ferry-leases-\(UUID().uuidString.prefix(8))"
        try LeaseTable(client: dynamo, table: bare, streamArn: "arn:stream/1", workerId: "w").ensureTable(inAlternator: false)
        XCTAssertThrowsError(try LeaseTable(client: dynamo, table: bare, streamArn: "arn:stream/1", workerId: "w")
            .ensureTable(inAlternator: true)) { error in
            XCTAssertTrue("\(error)".contains("system:write_isolation=always_use_lwt"), "\(error)")
        }
    }
}
