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
    }
}
