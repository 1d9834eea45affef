import AWSClient
import Foundation
import LoopbackServer
import Synchronization
import XCTest

/// The ECS and IMDSv2 providers against a real HTTP server on 127.0.0.1
/// (through libcurl), answering like the services do.
final class MetadataServerTests: XCTestCase {
    private static let expiry = "2031-01-02T03:04:05Z"

    func testIMDSv2_putsToken_thenReadsRoleAndCredentials_withTheToken() throws {
        let seen = Mutex<[String]>([])
        let server = try LoopbackServer { request in
            let token = request.header("x-aws-ec2-metadata-token") ?? "-"
            seen.withLock { $0.append("\(request.method) \(request.path) token=\(token)") }
            switch (request.method, request.path) {
            case ("PUT", "/latest/api/token"):
                guard request.header("x-aws-ec2-metadata-token-ttl-seconds") != nil else { return .text(400, "ttl missing") }
                return .text(200, "session-token-1")
            case ("GET", "/latest/meta-data/iam/security-credentials/"):
                return token == "session-token-1" ? .text(200, "ferry-role\n") : .text(401, "")
            case ("GET", "/latest/meta-data/iam/security-credentials/ferry-role"):
                return token == "session-token-1"
                    ? .json(200, #"{"Code":"Success","AccessKeyId":"ASIAIMDS","SecretAccessKey":"imds-secret","Token":"imds-token","Expiration":"\#(MetadataServerTests.expiry)"}"#)
                    : .text(401, "")
            default:
                return .text(404, "")
            }
        }
        defer { server.stop() }

        let provider = InstanceMetadataCredentialProvider(environment: [:], transport: CurlHTTPClient(),
                                                          endpoint: server.baseURL)
        let creds = try XCTUnwrap(try provider.credentials())
        XCTAssertEqual(creds.accessKeyId, "ASIAIMDS")
        XCTAssertEqual(creds.secretAccessKey, "imds-secret")
        XCTAssertEqual(creds.sessionToken, "imds-token")
        XCTAssertEqual(creds.expiration, ISO8601DateFormatter().date(from: Self.expiry))
        XCTAssertEqual(seen.withLock { $0 }, [
            "PUT /latest/api/token token=-",
            "GET /latest/meta-data/iam/security-credentials/ token=session-token-1",
            "GET /latest/meta-data/iam/security-credentials/ferry-role token=session-token-1",
        ])
    }

    func testIMDS_unreachable_meansNotOnEC2() throws {
        let server = try LoopbackServer { _ in .ok }
        let url = server.baseURL
        server.stop()
        let provider = InstanceMetadataCredentialProvider(
            environment: [:], transport: CurlHTTPClient(options: HTTPClientOptions(connectTimeout: 1, totalTimeout: 2)),
            endpoint: url)
        XCTAssertNil(try provider.credentials())
    }

    func testECS_relativeURI_sendsAuthorizationToken() throws {
        let server = try LoopbackServer { request in
            guard request.path == "/v2/credentials/abc" else { return .text(404, "") }
            guard request.header("authorization") == "container-auth" else { return .text(401, "") }
            return .json(200, #"{"AccessKeyId":"ASIAECS","SecretAccessKey":"ecs-secret","Token":"ecs-token","Expiration":"\#(MetadataServerTests.expiry)"}"#)
        }
        defer { server.stop() }
        let provider = ECSCredentialProvider(
            environment: ["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/credentials/abc",
                          "AWS_CONTAINER_AUTHORIZATION_TOKEN": "container-auth"],
            transport: CurlHTTPClient(), containerHost: server.baseURL)
        let creds = try XCTUnwrap(try provider.credentials())
        XCTAssertEqual(creds.accessKeyId, "ASIAECS")
        XCTAssertEqual(creds.sessionToken, "ecs-token")
    }

    func testECS_fullURI_onLoopback_andErrorsNeverCarryTheToken() throws {
        let server = try LoopbackServer { _ in .text(500, "boom") }
        defer { server.stop() }
        let provider = ECSCredentialProvider(
            environment: ["AWS_CONTAINER_CREDENTIALS_FULL_URI": server.baseURL + "/creds",
                          "AWS_CONTAINER_AUTHORIZATION_TOKEN": "very-secret-token"],
            transport: CurlHTTPClient())
        XCTAssertThrowsError(try provider.credentials()) { error in
            XCTAssertFalse("\(error)".contains("very-secret-token"), "\(error)")
            XCTAssertTrue("\(error)".contains("500"), "\(error)")
        }
    }

    func testDefaultChain_fallsThroughToIMDS_whenNothingElseIsSet() throws {
        let server = try LoopbackServer { request in
            switch request.path {
            case "/latest/api/token": return .text(200, "t")
            case "/latest/meta-data/iam/security-credentials/": return .text(200, "r")
            case "/latest/meta-data/iam/security-credentials/r":
                return .json(200, #"{"Code":"Success","AccessKeyId":"ASIACHAIN","SecretAccessKey":"s","Token":"t","Expiration":"\#(MetadataServerTests.expiry)"}"#)
            default: return .text(404, "")
            }
        }
        defer { server.stop() }
        let home = NSTemporaryDirectory() + "ferry-empty-home-\(UUID().uuidString)"
        let chain = CredentialChain.default(environment: ["HOME": home], transport: CurlHTTPClient(),
                                            metadataEndpoint: server.baseURL)
        let resolved = try chain.resolve()
        XCTAssertEqual(resolved.credentials.accessKeyId, "ASIACHAIN")
        XCTAssertTrue(resolved.provider.lowercased().contains("metadata") || resolved.provider.lowercased().contains("imds"),
                      resolved.provider)
    }
}
