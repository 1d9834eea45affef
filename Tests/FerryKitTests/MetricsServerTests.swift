import AWSClient
@testable import FerryKit
import Foundation
import Glibc
import XCTest

/// `state.metrics_listen`: the setting, and the server on its own.
final class MetricsServerTests: XCTestCase {
    /// A port nobody listens on now (tests bind 127.0.0.1 only).
    static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_addr.s_addr = in_addr_t(UInt32(0x7F00_0001).bigEndian)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &a) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { p -> Int32 in
                _ = bind(fd, p, length)
                return getsockname(fd, p, &length)
            }
        }
        return Int(UInt16(bigEndian: a.sin_port))
    }

    static func get(_ url: String, method: String = "GET") throws -> HTTPResponse {
        try CurlHTTPClient(options: HTTPClientOptions(connectTimeout: 2, totalTimeout: 5))
            .send(HTTPRequest(method: method, url: url), operation: "scrape")
    }

    func testListenSetting_parsesNumericAddresses_andSaysWhatIsWrongOtherwise() throws {
        XCTAssertNil(try ConfigLoader(environment: [:]).load(file: nil).state.metricsListen, "off by default")
        let config = try ConfigLoader(environment: ["FERRY_STATE_METRICS_LISTEN": "0.0.0.0:9464"]).load(file: nil)
        XCTAssertEqual(config.state.metricsListen, try MetricsListenAddress(parsing: "0.0.0.0:9464"))
        XCTAssertEqual(try MetricsListenAddress(parsing: "[::]:9464").description, "[::]:9464")
        XCTAssertEqual(try MetricsListenAddress(parsing: "127.0.0.1:1").port, 1)

        for (bad, why) in [("9464", "has no port"), ("localhost:9464", "is not an IPv4 address"), ("0.0.0.0:70000", "has a port outside 1 to 65535"), ("0.0.0.0:http", "has no port"),
                           (":9464", "has no address"), ("[nope]:9464", "is not an IPv6 address")] {
            XCTAssertThrowsError(try ConfigLoader(environment: [:]).load(file: nil, overrides: [("state.metrics_listen", bad)])) { error in
                let text = "\(error)"
                XCTAssertTrue(text.contains("state.metrics_listen (from the command line): '\(bad)' \(why)"), text)
                XCTAssertTrue(text.contains("e.g. 0.0.0.0:9464"), text)
            }
        }
    }

    func testServesTheMetricsAtSlashMetrics_404Elsewhere_oneRequestAtATime() throws {
        let body = "# HELP ferry_lag_seconds Lag.\nferry_lag_seconds 1.5\n"
        let server = try MetricsServer(address: try MetricsListenAddress(parsing: "127.0.0.1:\(Self.freePort())")) { body }
        defer { server.stop() }
        let base = "http://127.0.0.1:\(server.port)"
        let ok = try Self.get(base + "/metrics")
        XCTAssertEqual(ok.status, 200)
        XCTAssertEqual(String(decoding: ok.body, as: UTF8.self), body)
        XCTAssertTrue(ok.header("Content-Type")?.hasPrefix("text/plain; version=0.0.4") == true, "\(ok.headers)")
        XCTAssertEqual(try Self.get(base + "/metrics?name=x").status, 200)
        XCTAssertEqual(try Self.get(base + "/").status, 404)
        XCTAssertEqual(try Self.get(base + "/metrics/x").status, 404)
        XCTAssertEqual(try Self.get(base + "/metrics", method: "POST").status, 405)
        for _ in 0..<20 { XCTAssertEqual(try Self.get(base + "/metrics").status, 200) }
    }

    func testNoReportYet_is503_andAStoppedServerIsGone() throws {
        let server = try MetricsServer(address: try MetricsListenAddress(parsing: "127.0.0.1:\(Self.freePort())")) { nil }
        let url = "http://127.0.0.1:\(server.port)/metrics"
        XCTAssertEqual(try Self.get(url).status, 503)
        server.stop()
        XCTAssertThrowsError(try Self.get(url))
    }

    func testATakenPort_isAClearError() throws {
        let server = try MetricsServer(address: try MetricsListenAddress(parsing: "127.0.0.1:\(Self.freePort())")) { "" }
        defer { server.stop() }
        XCTAssertThrowsError(try MetricsServer(address: try MetricsListenAddress(parsing: "127.0.0.1:\(server.port)")) { "" }) { error in
            XCTAssertTrue("\(error)".contains("state.metrics_listen 127.0.0.1:\(server.port): cannot listen"), "\(error)")
        }
    }
}
