import AWSClient
import DynamoModel
import Foundation
import Replication
import XCTest

/// The `ferry` binary itself: killed with SIGKILL in the middle of a run,
/// restarted, and still converging; stopped with SIGTERM, exiting 0.
final class MotoKillTests: XCTestCase {
    static func ferryBinary() throws -> String {
        // The test bundle sits in the same build directory as the executable.
        let buildDir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for candidate in [buildDir, buildDir.deletingLastPathComponent()] {
            let path = candidate.appendingPathComponent("ferry").path
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        throw NSError(domain: "ferry", code: 1, userInfo: [NSLocalizedDescriptionKey: "ferry binary not found beside \(buildDir.path); run swift build first"])
    }

    /// Starts the `ferry` binary with `arguments`, its output appended to
    /// `log`, in a bare environment (no AWS settings leak in).
    static func launch(_ arguments: [String], log: String) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try ferryBinary())
        process.arguments = arguments
        if !FileManager.default.fileExists(atPath: log) { _ = FileManager.default.createFile(atPath: log, contents: nil) }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        handle.seekToEndOfFile()
        process.standardError = handle
        process.standardOutput = handle
        process.environment = ["PATH": "/usr/bin:/bin", "HOME": NSTemporaryDirectory()]
        try process.run()
        return process
    }

    private func start(_ binary: String, config: String, log: String) throws -> Process {
        try Self.launch(["stream", "--config", config, "--set", "stream.idle_backoff_max_ms=50"], log: log)
    }

    func testKill9_thenRestart_converges_andSIGTERMExitsZero() throws {
        let url = try MotoStreamTests.motoURL()
        let binary = try Self.ferryBinary()
        let dir = NSTemporaryDirectory() + "ferry-kill-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let table = "stream-kill-\(UUID().uuidString.prefix(6))"
        let source = MotoStreamTests.client(url, region: "us-east-1")
        let key = [KeySchemaElement(attributeName: "pk", keyType: "HASH"), KeySchemaElement(attributeName: "sk", keyType: "RANGE")]
        let attrs = [AttributeDefinition(attributeName: "pk", attributeType: "S"), AttributeDefinition(attributeName: "sk", attributeType: "N")]
        _ = try source.createTable(TableDescription(tableName: table, keySchema: key, attributeDefinitions: attrs,
                                                    streamEnabled: true, streamViewType: .newAndOldImages))
        _ = try MotoStreamTests.client(url, region: "us-west-2").createTable(
            TableDescription(tableName: table, keySchema: key, attributeDefinitions: attrs))
        let config = dir + "/ferry.yaml"
        try """
            source: {table: \(table), region: us-east-1, endpoint: "\(url)", access_key_id: AKIDMOTO, secret_access_key: kill-test-secret-7f3a}
            target: {endpoints: ["\(url)"], table: \(table), region: us-west-2}
            state: {checkpoint: \(dir)/checkpoint.json, status: \(dir)/status.json, dead_letter: \(dir)/dead.jsonl}
            """.write(toFile: config, atomically: true, encoding: .utf8)

        let first = try start(binary, config: config, log: dir + "/ferry.log")
        for i in 0..<150 {
            try source.putItem(table: table, item: ["pk": .s("k\(i % 10)"), "sk": .n(String(i % 30)), "v": .n(String(i))])
            if i % 7 == 0 { try source.deleteItem(table: table, key: ["pk": .s("k\((i + 3) % 10)"), "sk": .n(String((i + 3) % 30))]) }
            if i == 80 { kill(first.processIdentifier, SIGKILL) }
        }
        first.waitUntilExit()
        XCTAssertEqual(first.terminationReason, .uncaughtSignal)

        let second = try start(binary, config: config, log: dir + "/ferry.log")
        let deadline = Date().addingTimeInterval(40)
        var synced = false
        while Date() < deadline {
            if try MotoStreamTests.inSync(url, table) { synced = true; break }
            Thread.sleep(forTimeInterval: 0.2)
        }
        kill(second.processIdentifier, SIGTERM)
        second.waitUntilExit()
        let log = (try? String(contentsOfFile: dir + "/ferry.log", encoding: .utf8)) ?? ""
        XCTAssertTrue(synced, "the target did not converge after the restart; log:\n\(log.suffix(2000))")
        XCTAssertEqual(second.terminationStatus, 0, log.suffix(2000).description)
        XCTAssertEqual(try StatusReport.read(path: dir + "/status.json")?.phase, .stopped)
        XCTAssertFalse(log.contains("kill-test-secret-7f3a"), "no secret in the log")
        XCTAssertTrue(log.contains("secret_access_key=<redacted>"), log.prefix(1000).description)
    }
}
