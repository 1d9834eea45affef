import Foundation
@testable import Replication
import XCTest

final class StatusReportTests: XCTestCase {
    func testManyShards_areWrittenByHand_andReadBackAsTheEncoderWouldHaveWrittenThem() throws {
        var report = StatusReport(version: "t", pid: 7, writtenAt: Date(timeIntervalSince1970: 1_700_000_000), phase: .streaming)
        report.streamArn = "arn:x"
        report.stalled = "nothing moves \"quoted\""
        report.threads = 12
        report.threadBound = 20
        report.gaps = [StatusReport.Gap(shard: "s1", afterSequence: "5", detectedAt: Date(timeIntervalSince1970: 1_700_000_001),
                                        detail: "trimmed", skipped: true)]
        report.totals.read = 99
        report.totals.outOfOrder = 3
        let states: [ShardPhase] = [.waiting, .reading, .drained, .finished]
        for i in 0..<5000 {
            let parent: String? = i % 3 == 0 ? nil : "shardId-p\\\(i)"
            let last: String? = i % 5 == 0 ? nil : String(1_000_000_000_000_000_000 + i)
            let caughtUp: Bool? = i % 4 == 1 ? (i % 8 == 1) : nil
            report.shards.append(StatusReport.Shard(id: "shardId-\(i)", parent: parent, state: states[i % 4],
                                                    lastSequenceApplied: last, recordsApplied: i,
                                                    lagSeconds: Double(i) / 7, caughtUp: caughtUp))
        }
        let bytes = try report.encoded()
        XCTAssertEqual(try StatusReport.decode(bytes), report)
        let text = String(decoding: bytes, as: UTF8.self)
        XCTAssertTrue(text.contains("\n    {\"id\":\"shardId-0\""), "one shard a line")
        XCTAssertTrue(text.contains("\"threadBound\" : 20"), "the rest as the encoder writes it")
        var few = report
        few.shards = Array(report.shards.prefix(3))
        XCTAssertEqual(try StatusReport.decode(try few.encoded()), few)
    }
}
