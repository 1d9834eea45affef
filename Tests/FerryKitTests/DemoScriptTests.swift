import Foundation
import XCTest

/// The README's first command, smaller: scripts/demo.sh with a few
/// thousand items against the test run's moto and the debug binary, so the
/// quick start never rots. It must end with verify saying "in sync".
final class DemoScriptTests: XCTestCase {
    func testDemo_runsTheWholeMigration_andEndsInSync() throws {
        let url = try MotoStreamTests.motoURL()
        let binary = try MotoKillTests.ferryBinary()
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [root.appendingPathComponent("scripts/demo.sh").path]
        var environment = ProcessInfo.processInfo.environment
        environment["FERRY_DEMO_BINARY"] = binary
        environment["FERRY_DEMO_MOTO_URL"] = url
        environment["FERRY_DEMO_ITEMS"] = "2000"
        environment["FERRY_DEMO_WRITE_SECONDS"] = "5"
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, String(text.suffix(3000)))
        XCTAssertTrue(text.contains("verify:            in sync"), String(text.suffix(3000)))
        XCTAssertTrue(text.contains("items backfilled:  2000 items written"), String(text.suffix(3000)))
        XCTAssertTrue(text.contains("final lag:         0"), String(text.suffix(3000)))
        // Inserts, updates and deletes all flow: each kind of stream event is counted.
        let events = try XCTUnwrap(text.split(separator: "\n").first { $0.hasPrefix("stream events:") }, String(text.suffix(3000)))
        let numbers = events.split(separator: " ").compactMap { Int($0.trimmingCharacters(in: .punctuationCharacters)) }
        XCTAssertEqual(numbers.count, 3, String(events))
        XCTAssertTrue(numbers.allSatisfy { $0 > 0 }, "inserted, modified and removed must all be non-zero: \(events)")
        // The writer keeps a steady rate of at least 50 changes a second.
        let writer = try XCTUnwrap(text.split(separator: "\n").first { $0.hasPrefix("writer made:") }, String(text.suffix(3000)))
        let rate = writer.range(of: #""per_second": ([0-9.]+)"#, options: .regularExpression).map { String(writer[$0]) }
        let perSecond = rate.flatMap { Double($0.split(separator: " ").last ?? "") } ?? 0
        XCTAssertGreaterThanOrEqual(perSecond, 50, String(writer))
    }
}
