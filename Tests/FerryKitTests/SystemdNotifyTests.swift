#if canImport(Glibc)
import Glibc
#endif
import AWSClient
import DynamoModel
import FerryKit
import Foundation
import XCTest

/// `ferry stream` under a stand-in systemd: a datagram socket in
/// NOTIFY_SOCKET receives READY, STATUS, WATCHDOG and STOPPING; the
/// metrics file appears; a secret given in configuration and environment
/// appears in no output or file.
final class SystemdNotifyTests: XCTestCase {
    /// Binds a datagram socket at `path`; returns its descriptor.
    private func listen(_ path: String) throws -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, b) in path.utf8.enumerated() { raw[i] = b }
        }
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        XCTAssertEqual(rc, 0)
        var timeout = timeval(tv_sec: 0, tv_usec: 200_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        return fd
    }

    private func receive(_ fd: Int32) -> String? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = recv(fd, &buffer, buffer.count, 0)
        return n > 0 ? String(decoding: buffer[0..<n], as: UTF8.self) : nil
    }

    func testNotifyMessages_metricsFile_andNoSecretAnywhere() throws {
        let url = try MotoStreamTests.motoURL()
        let binary = try MotoKillTests.ferryBinary()
        let dir = NSTemporaryDirectory() + "ferry-notify-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let table = "notify-\(UUID().uuidString.prefix(6))"
        let key = [KeySchemaElement(attributeName: "pk", keyType: "HASH")]
        let attrs = [AttributeDefinition(attributeName: "pk", attributeType: "S")]
        let source = MotoStreamTests.client(url, region: "us-east-1")
        _ = try source.createTable(TableDescription(tableName: table, keySchema: key, attributeDefinitions: attrs,
                                                    streamEnabled: true, streamViewType: .newImage))
        _ = try MotoStreamTests.client(url, region: "us-west-2").createTable(TableDescription(tableName: table, keySchema: key, attributeDefinitions: attrs))
        try source.putItem(table: table, item: ["pk": .s("a"), "secretish": .s("item-value-7731")])

        let fileSecret = "file-secret-51d9e2", envSecret = "env-secret-8c03aa"
        let config = dir + "/ferry.yaml"
        try """
            source: {table: \(table), region: us-east-1, endpoint: "\(url)", access_key_id: AKIDMOTO, secret_access_key: \(fileSecret)}
            target: {endpoints: ["\(url)"], table: \(table), region: us-west-2, access_key_id: alternator}
            state: {checkpoint: \(dir)/checkpoint.json, status: \(dir)/status.json, dead_letter: \(dir)/dead.jsonl, metrics: \(dir)/ferry.prom}
            log: {level: debug}
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let socketPath = dir + "/notify.sock"
        let fd = try listen(socketPath)
        defer { close(fd) }

        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["stream", "--config", config]
        process.environment = ["NOTIFY_SOCKET": socketPath, "WATCHDOG_USEC": "1000000", "HOME": dir,
                               "FERRY_TARGET_SECRET_ACCESS_KEY": envSecret]
        let log = dir + "/ferry.log"
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.standardOutput = process.standardError
        try process.run()

        var messages: [String] = []
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            if let m = receive(fd) { messages.append(m) }
            if messages.contains(where: { $0.contains("READY=1") }) && messages.contains("WATCHDOG=1")
                && messages.contains(where: { $0.hasPrefix("STATUS=streaming") }) { break }
        }
        kill(process.processIdentifier, SIGTERM)
        let stopDeadline = Date().addingTimeInterval(10)
        while Date() < stopDeadline && !messages.contains("STOPPING=1") {
            if let m = receive(fd) { messages.append(m) }
        }
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0)
        XCTAssertTrue(messages.contains { $0.contains("READY=1") && $0.contains("STATUS=streaming") }, "\(messages)")
        XCTAssertTrue(messages.contains("WATCHDOG=1"), "\(messages)")
        XCTAssertTrue(messages.contains("STOPPING=1"), "\(messages)")

        let metrics = try String(contentsOfFile: dir + "/ferry.prom", encoding: .utf8)
        XCTAssertTrue(metrics.contains("ferry_records_read_total 1"), metrics)
        XCTAssertTrue(metrics.contains("ferry_shard_lag_seconds_bucket{le=\"+Inf\"} 1"), metrics)
        XCTAssertFalse(metrics.contains("{shard="), "no series per shard: \(metrics)")
        XCTAssertTrue(metrics.contains("ferry_shards{state=\"reading\"} 1"), metrics)
        XCTAssertTrue(metrics.contains("ferry_thread_bound "), metrics)

        // Neither secret, nor the item's value, in anything Ferry wrote.
        for file in try FileManager.default.contentsOfDirectory(atPath: dir) where file != "ferry.yaml" && file != "notify.sock" {
            let text = (try? String(contentsOfFile: dir + "/" + file, encoding: .utf8)) ?? ""
            XCTAssertFalse(text.contains(fileSecret), "\(file) holds the file secret")
            XCTAssertFalse(text.contains(envSecret), "\(file) holds the environment secret")
            if file != "checkpoint.json" { XCTAssertFalse(text.contains("item-value-7731"), "\(file) holds an item value") }
        }
        XCTAssertFalse(messages.joined().contains(fileSecret) || messages.joined().contains(envSecret))
    }
}
