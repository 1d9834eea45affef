import AWSClient
import DynamoModel
@testable import FerryKit
import Foundation
import Logging
import Verify
import XCTest

/// `ferry verify` from the configuration down, against moto: the runner's
/// exit statuses, and the binary itself.
final class MotoVerifyCommandTests: TemporaryDirectoryTestCase {
    private func tables(_ url: String, items: Int, targetItems: Int) throws -> String {
        let table = "verify-cmd-\(UUID().uuidString.prefix(6))"
        let key = [KeySchemaElement(attributeName: "pk", keyType: "HASH")]
        let attrs = [AttributeDefinition(attributeName: "pk", attributeType: "S")]
        let source = MotoStreamTests.client(url, region: "us-east-1"), target = MotoStreamTests.client(url, region: "us-west-2")
        _ = try source.createTable(TableDescription(tableName: table, keySchema: key, attributeDefinitions: attrs))
        _ = try target.createTable(TableDescription(tableName: table, keySchema: key, attributeDefinitions: attrs))
        for i in 0..<items {
            let item: Item = ["pk": .s("item-\(i)"), "v": .n("\(i).0"), "tags": .ss(["x", "y"])]
            try source.putItem(table: table, item: item)
            if i < targetItems { try target.putItem(table: table, item: item) }
        }
        return table
    }

    private func config(_ url: String, table: String) -> FerryConfig {
        var c = FerryConfig()
        c.source.table = table
        c.source.region = "us-east-1"
        c.source.endpoint = url
        c.source.credentials.accessKeyId = "AKIDMOTO"
        c.source.credentials.secretAccessKey = "verify-cmd-secret-91c2"
        c.target.endpoints = [url]
        c.target.table = table
        c.target.region = "us-west-2"
        c.verify.segments = 2
        c.verify.recheckDelayMilliseconds = 20
        c.verify.recheckAttempts = 1
        c.verify.report = dir + "/mismatches.jsonl"
        return c
    }

    private func runner(_ config: FerryConfig) throws -> VerifyRunner {
        VerifyRunner(config: config, services: try Services(config: config, environment: [:]), logger: Logger(label: "test"))
    }

    func testInSync_exits0_andMismatches_exit1_andRepairFixesThem() throws {
        let url = try MotoStreamTests.motoURL()
        let table = try tables(url, items: 12, targetItems: 10)
        var config = config(url, table: table)
        XCTAssertEqual(try runner(config).run(VerifyRequest()), 1)
        let lines = try String(contentsOfFile: config.verify.report, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, 2)
        XCTAssertTrue(lines.allSatisfy { $0.contains(#""kind":"missing_in_target""#) })
        XCTAssertFalse(lines.joined().contains("verify-cmd-secret-91c2"))

        config.verify.sourceReadsPerSecond = 500
        config.verify.targetReadsPerSecond = 500
        XCTAssertEqual(try runner(config).run(VerifyRequest(repair: true, report: dir + "/repair.jsonl")), 0)
        XCTAssertEqual(try runner(config).run(VerifyRequest()), 0)
        XCTAssertEqual(try String(contentsOfFile: config.verify.report, encoding: .utf8), "")
        XCTAssertEqual(try runner(config).run(VerifyRequest(sample: 5)), 0)
        XCTAssertEqual(try runner(config).run(VerifyRequest(segments: "1/2")), 0)
    }

    func testMissingTargetTable_orUnreachableSource_orBadOptions_exit2() throws {
        let url = try MotoStreamTests.motoURL()
        let table = try tables(url, items: 1, targetItems: 1)
        var missing = config(url, table: table)
        missing.target.table = "no-such-table"
        XCTAssertEqual(try runner(missing).run(VerifyRequest()), 2)

        var unreachable = config(url, table: table)
        unreachable.source.endpoint = "http://127.0.0.1:9"
        XCTAssertEqual(try runner(unreachable).run(VerifyRequest()), 2)

        XCTAssertEqual(try runner(config(url, table: table)).run(VerifyRequest(segments: "4/4")), 2)
        XCTAssertEqual(try runner(config(url, table: table)).run(VerifyRequest(sample: 3, segments: "1/4")), 2)
        XCTAssertEqual(try runner(config(url, table: table)).run(VerifyRequest(keysFile: dir + "/absent.jsonl")), 2)
    }

    func testTheBinary_printsTheSummary_andExitsWithTheStatus() throws {
        let url = try MotoStreamTests.motoURL()
        let binary = try MotoKillTests.ferryBinary()
        let table = try tables(url, items: 6, targetItems: 5)
        let path = dir + "/ferry.yaml"
        try """
            source: {table: \(table), region: us-east-1, endpoint: "\(url)", access_key_id: AKIDMOTO, secret_access_key: verify-bin-secret-5e1d}
            target: {endpoints: ["\(url)"], table: \(table), region: us-west-2}
            verify: {segments: 2, recheck_delay_ms: 20, recheck_attempts: 1}
            """.write(toFile: path, atomically: true, encoding: .utf8)
        func ferry(_ arguments: [String]) throws -> (Int32, String, String) {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = ["verify", "--config", path] + arguments
            process.environment = ["PATH": "/usr/bin:/bin", "HOME": NSTemporaryDirectory()]
            let out = Pipe(), err = Pipe()
            process.standardOutput = out
            process.standardError = err
            try process.run()
            let stdout = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            return (process.terminationStatus, stdout, stderr)
        }
        let report = dir + "/report.jsonl"
        let (status, out, err) = try ferry(["--report", report])
        XCTAssertEqual(status, 1, out + err)
        XCTAssertTrue(out.contains("missing in target"), out)
        XCTAssertTrue(out.contains("NOT in sync"), out)
        XCTAssertFalse((out + err).contains("item-"), "keys stay out of the output: \(out + err)")
        XCTAssertFalse((out + err).contains("verify-bin-secret-5e1d"))

        let (again, _, _) = try ferry(["--keys", report, "--repair", "--report", dir + "/second.jsonl"])
        XCTAssertEqual(again, 0, "the report fed back as --keys, repaired")
        XCTAssertEqual(try ferry(["--report", dir + "/third.jsonl"]).0, 0)
        XCTAssertEqual(try ferry(["--segments", "9/4"]).0, 2)
    }
}
