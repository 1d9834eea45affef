@testable import FerryKit
import Replication
import XCTest

final class LeaseTablePrinterTests: XCTestCase {
    func testLeaseTable_showsEachWorkersShare_andWhatNoOneHolds() {
        let rows = [
            LeaseRow(shardId: "p1", owner: nil, counter: 4, finished: true),
            LeaseRow(shardId: "c1", owner: "host-a:1", counter: 7, parents: ["p1"]),
            LeaseRow(shardId: "c2", owner: "host-a:1", counter: 9, parents: ["p1"]),
            LeaseRow(shardId: "s3", owner: "host-b:2", counter: 3),
            LeaseRow(shardId: "p4", owner: "host-b:2", counter: 5),
            LeaseRow(shardId: "c4", owner: nil, counter: 0, parents: ["p4"]),       // waits for p4
            LeaseRow(shardId: "s5", owner: nil, counter: 2),                        // takeable
            LeaseRow(shardId: "c6", owner: nil, counter: 0, parents: ["gone"]),     // parent aged out: takeable
        ]
        let text = LeaseTablePrinter.render(rows, table: "ferry-leases")
        XCTAssertTrue(text.contains("lease table ferry-leases: 8 shards, 7 open, 1 finished"), text)
        XCTAssertTrue(text.contains("host-a:1") && text.contains("holds 2, counters 7-9"), text)
        XCTAssertTrue(text.contains("unowned: 3 (2 takeable now, 1 waiting for a parent)"), text)
        XCTAssertTrue(LeaseTablePrinter.render([], table: "t").contains("no worker holds a shard"))
    }

    func testHeartbeatRows_areWorkersNotShards() {
        let rows = [LeaseRow(shardId: "s1", owner: "host-a:1", counter: 3), LeaseRow(shardId: "s2", owner: nil, counter: 1)]
        let beats = [LeaseHeartbeat(worker: "host-a:1", counter: 12, lagSeconds: 2.2), LeaseHeartbeat(worker: "host-c:3", counter: 5)]
        let text = LeaseTablePrinter.render(rows, heartbeats: beats, table: "ferry-leases")
        XCTAssertTrue(text.contains("lease table ferry-leases: 2 shards, 2 open"), text)
        XCTAssertTrue(text.contains("holds 1, counters 3-3, heartbeat 12, lag 3 s"), text)
        XCTAssertTrue(text.contains("heartbeat rows of workers holding nothing: host-c:3 (5)"), text)
        XCTAssertTrue(text.contains("unowned: 1 (1 takeable now"), text)
    }
}
