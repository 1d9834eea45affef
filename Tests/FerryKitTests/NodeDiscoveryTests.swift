import AWSClient
@testable import FerryKit
import Foundation
import LoopbackServer
import Logging
import Replication
import XCTest

final class NodeDiscoveryTests: XCTestCase {
    private static func client(_ url: String) -> DynamoDBClient {
        DynamoDBClient(endpoint: Endpoint(url: url, region: "us-east-1", service: .dynamodb, isCustom: true),
                       credentials: StaticCredentialProvider(accessKeyId: "a", secretAccessKey: "b"), transport: CurlHTTPClient())
    }

    func testLocalNodes_replaceTheTargetsNodes_withTheSeedsSchemeAndPort() throws {
        let server = try LoopbackServer { request in
            request.path == "/localnodes" ? .json(200, #"["127.0.0.1","127.0.0.2","::1"]"#) : .text(404, "")
        }
        defer { server.stop() }
        let target = AlternatorTarget(table: "t", clients: [Self.client(server.baseURL)])
        let discovery = NodeDiscovery(seeds: ["http://127.0.0.1:1", server.baseURL], transport: CurlHTTPClient(),
                                      target: target, logger: Logger(label: "t")) { Self.client($0) }
        let urls = try discovery.refresh()
        XCTAssertEqual(urls, ["http://127.0.0.1:\(server.port)", "http://127.0.0.2:\(server.port)", "http://[::1]:\(server.port)"])
        XCTAssertEqual(target.nodeURLs, urls)
    }

    func testBadAnswer_keepsTheNodes_andSaysWhy() throws {
        let server = try LoopbackServer { _ in .json(200, #"{"not":"a list"}"#) }
        defer { server.stop() }
        let target = AlternatorTarget(table: "t", clients: [Self.client(server.baseURL)])
        let discovery = NodeDiscovery(seeds: [server.baseURL], transport: CurlHTTPClient(), target: target,
                                      logger: Logger(label: "t")) { Self.client($0) }
        XCTAssertThrowsError(try discovery.refresh()) { XCTAssertTrue("\($0)".contains("JSON list"), "\($0)") }
        XCTAssertEqual(target.nodeURLs, [server.baseURL])
    }

    func testNodeURLs_useTheDefaultPortOfTheScheme() throws {
        XCTAssertEqual(try NodeDiscovery.nodeURLs(Array(#"["10.0.0.5"]"#.utf8), seed: "https://scylla.example"), ["https://10.0.0.5:443"])
        XCTAssertThrowsError(try NodeDiscovery.nodeURLs(Array("[]".utf8), seed: "http://x:8000"))
    }
}
