import FerryKit
import Foundation
import XCTest

final class VerifyConfigTests: XCTestCase {
    func testVerifySettings_fromFileEnvironmentAndFlags() throws {
        let path = NSTemporaryDirectory() + "ferry-verify-\(UUID().uuidString).yaml"
        try "verify: {segments: 12, recheck_delay_ms: 2500, report_values: true}\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let config = try ConfigLoader(environment: ["FERRY_VERIFY_SOURCE_READS_PER_SECOND": "400"])
            .load(file: path, overrides: [("verify.recheck_attempts", "5"), ("verify.report", "/tmp/r.jsonl")])
        XCTAssertEqual(config.verify.segments, 12)
        XCTAssertEqual(config.verify.recheckDelayMilliseconds, 2500)
        XCTAssertTrue(config.verify.reportValues)
        XCTAssertEqual(config.verify.sourceReadsPerSecond, 400)
        XCTAssertEqual(config.verify.targetReadsPerSecond, 0)
        XCTAssertEqual(config.verify.recheckAttempts, 5)
        XCTAssertEqual(config.verify.report, "/tmp/r.jsonl")
        XCTAssertThrowsError(try ConfigLoader(environment: [:]).load(file: nil, overrides: [("verify.recheck_attempts", "0")]))
        XCTAssertEqual(FerryConfig().verify.report, "ferry-verify-mismatches.jsonl")
    }
}
