import AWSClient
import DynamoModel
import FerryKit
import Foundation
import Replication
import Logging
import Backfill
import XCTest

/// `ferry run` (the binary) from an empty target to streaming, with writes
/// to the source while the backfill runs.
final class MotoRunTests: XCTestCase {
    func testRun_backfillsThenStreams_andTheTargetEqualsTheSource() throws {
        let url = try MotoStreamTests.motoURL()
        let binary = try MotoKillTests.ferryBinary()
        let dir = NSTemporaryDirectory() + "ferry-run-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let table = "run-\(UUID().uuidString.prefix(6))"
        let source = MotoStreamTests.client(url, region: "us-east-1")
        let key = [KeySchemaElement(attributeName: "pk", keyType: "HASH")]
        let attrs = [AttributeDefinition(attributeName: "pk", attributeType: "S")]
        _ = try source.createTable(TableDescription(tableName: table, keySchema: key, attributeDefinitions: attrs))
        for i in 0..<200 { try source.putItem(table: table, item: ["pk": .s("k\(i)"), "v": .n("0")]) }

        let config = dir + "/ferry.yaml"
        try """
            source: {table: \(table), region: us-east-1, endpoint: "\(url)", access_key_id: AKIDMOTO, secret_access_key: moto}
            target: {endpoints: ["\(url)"], table: \(table), region: us-west-2}
            backfill: {segments: 2, items_per_second: 100}
            stream: {idle_backoff_max_ms: 50}
            state: {backfill: \(dir)/backfill.json, checkpoint: \(dir)/checkpoint.json, status: \(dir)/status.json, dead_letter: \(dir)/dead.jsonl}
            """.write(toFile: config, atomically: true, encoding: .utf8)

        // Without a stream, ferry run refuses and says how to enable one.
        let refused = Process()
        refused.executableURL = URL(fileURLWithPath: binary)
        refused.arguments = ["run", "--config", config]
        let errPipe = Pipe()
        refused.standardError = errPipe
        refused.standardOutput = Pipe()
        try refused.run()
        refused.waitUntilExit()
        XCTAssertEqual(refused.terminationStatus, 1)
        XCTAssertTrue(String(decoding: errPipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).contains("--enable-stream"))

        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["run", "--config", config, "--enable-stream", "--create-table"]
        let log = dir + "/ferry.log"
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.standardOutput = process.standardError
        try process.run()

        // Change the source while the backfill runs (about 2 s at 100 items/s).
        Thread.sleep(forTimeInterval: 0.5)
        for i in 0..<60 {
            try source.putItem(table: table, item: ["pk": .s("k\(i * 3)"), "v": .n("1"), "late": .bool(true)])
            if i % 4 == 0 { try source.deleteItem(table: table, key: ["pk": .s("k\(i * 3 + 1)")]) }
            try source.putItem(table: table, item: ["pk": .s("new\(i)"), "v": .n("2")])
        }
        let deadline = Date().addingTimeInterval(60)
        var synced = false
        while Date() < deadline {
            let phase = try? StatusReport.read(path: dir + "/status.json")?.phase
            if phase == .streaming, try MotoStreamTests.inSync(url, table) { synced = true; break }
            Thread.sleep(forTimeInterval: 0.3)
        }
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        XCTAssertTrue(synced, "not in sync; log:\n\(text.suffix(3000))")
        XCTAssertEqual(process.terminationStatus, 0, text.suffix(2000).description)
        XCTAssertTrue(text.contains("backfill complete"), text.suffix(2000).description)
        let progress = try XCTUnwrap(BackfillProgress.load(path: dir + "/backfill.json", source: "scan:\(table)"))
        XCTAssertTrue(progress.finished)
    }
}

final class MotoRunSafetyTests: XCTestCase {
    /// An export taken before the stream existed leaves a hole: the changes
    /// between the two are in neither. ferry run refuses.
    func testExportOlderThanTheStream_isRefused() throws {
        let url = try MotoStreamTests.motoURL()
        let dir = NSTemporaryDirectory() + "ferry-run-safety-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let table = "safety-\(UUID().uuidString.prefix(6))"
        let key = [KeySchemaElement(attributeName: "pk", keyType: "HASH")]
        let attrs = [AttributeDefinition(attributeName: "pk", attributeType: "S")]
        _ = try MotoStreamTests.client(url, region: "us-east-1").createTable(
            TableDescription(tableName: table, keySchema: key, attributeDefinitions: attrs, streamEnabled: true, streamViewType: .newAndOldImages))
        _ = try MotoStreamTests.client(url, region: "us-west-2").createTable(TableDescription(tableName: table, keySchema: key, attributeDefinitions: attrs))
        let writer = try ExportWriter(directory: dir + "/bucket", exportId: "01600000000000-old00001",
                                      exportTime: Date().addingTimeInterval(-3600))
        try writer.add(item: Array(#"{"pk":{"S":"a"}}"#.utf8))
        let exportRoot = try writer.finish()

        var config = FerryConfig()
        config.source.table = table
        config.source.region = "us-east-1"
        config.source.endpoint = url
        config.source.credentials.accessKeyId = "AKIDMOTO"
        config.source.credentials.secretAccessKey = "moto"
        config.target.endpoints = [url]
        config.target.table = table
        config.target.region = "us-west-2"
        config.state.backfill = dir + "/backfill.json"
        config.state.status = dir + "/status.json"
        config.state.checkpoint = dir + "/checkpoint.json"
        config.state.deadLetter = dir + "/dead.jsonl"
        var options = RunRunner.Options()
        options.exports = [exportRoot]
        let runner = RunRunner(config: config, services: try Services(config: config, environment: [:]),
                               logger: Logger(label: "t"), options: options)
        XCTAssertEqual(runner.run(signals: SignalTrap(signals: [])), StreamRunner.exitFailure)
        let status = try XCTUnwrap(StatusReport.read(path: dir + "/status.json"))
        XCTAssertEqual(status.phase, .failed)
        XCTAssertTrue(status.lastError?.contains("after the backfill started") ?? false, status.lastError ?? "")
    }
}
