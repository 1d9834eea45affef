@testable import FerryKit
import Foundation
import Replication
import XCTest

/// The target's nodes in the status file, `ferry status` and the metrics.
final class StatusNodesTests: XCTestCase {
    private func report(nodes: [StatusReport.Node]?) -> StatusReport {
        var r = StatusReport(version: "t", pid: 7, writtenAt: Date(timeIntervalSince1970: 1_800_000_000), phase: .streaming)
        r.nodes = nodes
        return r
    }

    private let nodes = [
        StatusReport.Node(url: "http://10.0.0.1:8000", up: false, since: Date(timeIntervalSince1970: 1_799_999_990), failures: 3,
                          lastError: "BatchWriteItem to 10.0.0.1:8000 failed: connection refused"),
        StatusReport.Node(url: "http://10.0.0.2:8000", up: true, since: Date(timeIntervalSince1970: 1_799_990_000), failures: 0),
    ]

    func testAStatusFileWithoutNodes_stillDecodes() throws {
        let old = report(nodes: nil)
        let text = String(decoding: try old.encoded(), as: UTF8.self)
        XCTAssertFalse(text.contains("nodes"), text)
        XCTAssertNil(try StatusReport.decode(Array(text.utf8)).nodes)

        let withNodes = report(nodes: nodes)
        XCTAssertEqual(try StatusReport.decode(try withNodes.encoded()), withNodes)
    }

    func testStatusPrinter_showsEachNodesState() {
        let text = StatusPrinter.render(report(nodes: nodes), now: Date(timeIntervalSince1970: 1_800_000_001))
        let lines = text.split(separator: "\n")
        let first = lines.first { $0.hasPrefix("http://10.0.0.1:8000") }.map(String.init) ?? ""
        XCTAssertTrue(first.contains("set aside"), text)
        XCTAssertTrue(first.contains("2027-01-15T07:59:50Z"), text)
        XCTAssertTrue(first.contains(" 3"), text)
        XCTAssertTrue(first.contains("connection refused"), text)
        let second = lines.first { $0.hasPrefix("http://10.0.0.2:8000") }.map(String.init) ?? ""
        XCTAssertTrue(second.contains(" up "), text)
        XCTAssertFalse(StatusPrinter.render(report(nodes: nil), now: Date()).contains("target node"))
    }

    func testMetrics_haveOneUpGaugeAndFailureCounterPerNode() {
        let text = MetricsFile.render(report(nodes: nodes))
        XCTAssertTrue(text.contains(#"ferry_target_node_up{node="http://10.0.0.1:8000"} 0"#), text)
        XCTAssertTrue(text.contains(#"ferry_target_node_up{node="http://10.0.0.2:8000"} 1"#), text)
        XCTAssertTrue(text.contains(#"ferry_target_node_failures_total{node="http://10.0.0.1:8000"} 3"#), text)
        XCTAssertTrue(text.contains(#"ferry_target_node_since_timestamp_seconds{node="http://10.0.0.2:8000"} 1799990000"#), text)
        XCTAssertFalse(MetricsFile.render(report(nodes: nil)).contains("ferry_target_node_up"))
    }
}
