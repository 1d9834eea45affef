import XCTest
import Synchronization
@testable import AWSClient

/// A stand-in for EC2 instance metadata that enforces IMDSv2 like the real
/// service: a GET without a valid session token gets 401.
final class FakeInstanceMetadata: Sendable {
    struct State {
        var issuedTokens: [String] = []
        var role: String? = "ferry-role"
        var credentialsServed = 0
    }
    let state = Mutex(State())
    let clock: TestClock

    init(clock: TestClock) { self.clock = clock }

    func revokeTokens() { state.withLock { $0.issuedTokens = [] } }
    var issuedTokenCount: Int { state.withLock { $0.issuedTokens.count } }

    func answer(_ request: HTTPRequest) -> HTTPResponse {
        let path = SigV4URLParts(request.url).path
        if request.method == "PUT" && path == "/latest/api/token" {
            guard let ttl = request.header("X-aws-ec2-metadata-token-ttl-seconds"), Int(ttl) != nil else {
                return HTTPResponse(status: 400)
            }
            let token = state.withLock { state in
                let token = "imds-token-\(state.issuedTokens.count + 1)"
                state.issuedTokens.append(token)
                return token
            }
            return HTTPResponse(status: 200, body: Array(token.utf8))
        }
        guard request.method == "GET" else { return HTTPResponse(status: 405) }
        let token = request.header("X-aws-ec2-metadata-token")
        let snapshot = state.withLock { $0 }
        guard let token, snapshot.issuedTokens.contains(token) else { return HTTPResponse(status: 401) }

        let prefix = "/latest/meta-data/iam/security-credentials/"
        guard path.hasPrefix(prefix) else { return HTTPResponse(status: 404) }
        let rest = String(path.dropFirst(prefix.count))
        guard let role = snapshot.role else { return HTTPResponse(status: 404) }
        if rest.isEmpty { return HTTPResponse(status: 200, body: Array("\(role)\n".utf8)) }
        guard rest == role else { return HTTPResponse(status: 404) }

        let served = state.withLock { state in
            state.credentialsServed += 1
            return state.credentialsServed
        }
        let expiration = ISO8601DateFormatter().string(from: clock.now.addingTimeInterval(3600))
        return HTTPResponse(status: 200, body: json([
            "Code": "Success", "Type": "AWS-HMAC", "LastUpdated": "2023-11-14T22:13:20Z",
            "AccessKeyId": "ASIAIMDS\(served)", "SecretAccessKey": "imds-secret-\(served)",
            "Token": "imds-session-\(served)", "Expiration": expiration,
        ]))
    }
}

final class InstanceMetadataCredentialProviderTests: XCTestCase {
    let clock = TestClock()

    /// The fake service and a transport that records what reaches it.
    func makeIMDS() -> (FakeInstanceMetadata, FakeHTTPTransport) {
        let imds = FakeInstanceMetadata(clock: clock)
        return (imds, FakeHTTPTransport { imds.answer($0) })
    }

    func testFetch_putsTokenThenGetsRoleAndCredentialsWithTokenHeader() throws {
        let (_, transport) = makeIMDS()
        let provider = InstanceMetadataCredentialProvider(environment: [:], transport: transport, clock: clock.closure)
        let credentials = try XCTUnwrap(try provider.credentials())

        XCTAssertEqual(credentials.accessKeyId, "ASIAIMDS1")
        XCTAssertEqual(credentials.secretAccessKey, "imds-secret-1")
        XCTAssertEqual(credentials.sessionToken, "imds-session-1")
        XCTAssertEqual(credentials.expiration, Date(timeIntervalSince1970: clock.now.timeIntervalSince1970.rounded(.down) + 3600))

        let requests = transport.requests
        XCTAssertEqual(transport.requestLines, [
            "PUT /latest/api/token",
            "GET /latest/meta-data/iam/security-credentials/",
            "GET /latest/meta-data/iam/security-credentials/ferry-role",
        ])
        XCTAssertTrue(requests.allSatisfy { $0.url.hasPrefix("http://169.254.169.254/") })
        XCTAssertEqual(requests[0].header("X-aws-ec2-metadata-token-ttl-seconds"), "21600")
        XCTAssertNil(requests[0].header("X-aws-ec2-metadata-token"))
        XCTAssertEqual(requests[1].header("X-aws-ec2-metadata-token"), "imds-token-1")
        XCTAssertEqual(requests[2].header("X-aws-ec2-metadata-token"), "imds-token-1")
    }

    func testSessionToken_isReusedUntilNearExpiry_thenRenewed() throws {
        let (imds, transport) = makeIMDS()
        let provider = InstanceMetadataCredentialProvider(environment: [:], transport: transport, clock: clock.closure)
        _ = try provider.credentials()
        clock.advance(3 * 3600)
        _ = try provider.credentials()
        XCTAssertEqual(imds.issuedTokenCount, 1, "the six-hour token is reused")

        clock.advance(3 * 3600 - 30)   // 30 s before the token expires
        _ = try provider.credentials()
        XCTAssertEqual(imds.issuedTokenCount, 2)
        XCTAssertEqual(transport.requests.last?.header("X-aws-ec2-metadata-token"), "imds-token-2")
    }

    func testRejectedToken_isReplacedOnce() throws {
        let (imds, transport) = makeIMDS()
        let provider = InstanceMetadataCredentialProvider(environment: [:], transport: transport, clock: clock.closure)
        _ = try provider.credentials()
        imds.revokeTokens()
        XCTAssertEqual(try provider.credentials()?.accessKeyId, "ASIAIMDS2")
        XCTAssertEqual(Array(transport.requestLines.suffix(4)), [
            "GET /latest/meta-data/iam/security-credentials/",
            "PUT /latest/api/token",
            "GET /latest/meta-data/iam/security-credentials/",
            "GET /latest/meta-data/iam/security-credentials/ferry-role",
        ])
    }

    func testRefreshingProvider_refetchesFiveMinutesBeforeExpiry() throws {
        let (imds, transport) = makeIMDS()
        let provider = RefreshingCredentialProvider(
            InstanceMetadataCredentialProvider(environment: [:], transport: transport, clock: clock.closure),
            clock: clock.closure)
        XCTAssertEqual(try provider.credentials()?.accessKeyId, "ASIAIMDS1")
        clock.advance(3600 - 301)
        XCTAssertEqual(try provider.credentials()?.accessKeyId, "ASIAIMDS1", "still fresh 5 min 1 s before expiry")
        clock.advance(2)
        XCTAssertEqual(try provider.credentials()?.accessKeyId, "ASIAIMDS2", "refreshed inside the 5-minute window")
        XCTAssertEqual(imds.issuedTokenCount, 1)
    }

    func testDisabled_byEnvironment_sendsNothing() throws {
        let transport = FakeHTTPTransport.unused()
        let provider = InstanceMetadataCredentialProvider(environment: ["AWS_EC2_METADATA_DISABLED": "TRUE"], transport: transport)
        XCTAssertNil(provider.endpoint)
        XCTAssertNil(try provider.credentials())
        XCTAssertTrue(transport.requests.isEmpty)
    }

    func testEndpoint_fromEnvironment_orInitializer() throws {
        let (_, transport) = makeIMDS()
        let env = ["AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://127.0.0.1:1338/"]
        let provider = InstanceMetadataCredentialProvider(environment: env, transport: transport, clock: clock.closure)
        XCTAssertEqual(provider.endpoint, "http://127.0.0.1:1338")
        _ = try provider.credentials()
        XCTAssertEqual(transport.requests.first?.url, "http://127.0.0.1:1338/latest/api/token")

        let explicit = InstanceMetadataCredentialProvider(environment: env, transport: transport, endpoint: "http://127.0.0.1:9")
        XCTAssertEqual(explicit.endpoint, "http://127.0.0.1:9")
        let ipv6 = InstanceMetadataCredentialProvider(environment: ["AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE": "IPv6"],
                                                      transport: transport)
        XCTAssertEqual(ipv6.endpoint, "http://[fd00:ec2::254]")
    }

    func testUnreachable_isNotConfigured() throws {
        let provider = InstanceMetadataCredentialProvider(environment: [:], transport: FakeHTTPTransport.unreachable())
        XCTAssertNil(try provider.credentials())
    }

    func testInstanceWithoutRole_isNotConfigured() throws {
        let (imds, transport) = makeIMDS()
        imds.state.withLock { $0.role = nil }
        let provider = InstanceMetadataCredentialProvider(environment: [:], transport: transport, clock: clock.closure)
        XCTAssertNil(try provider.credentials())
    }

    func testTokenRefused_isAnError() {
        let transport = FakeHTTPTransport { _ in HTTPResponse(status: 403) }
        let provider = InstanceMetadataCredentialProvider(environment: [:], transport: transport)
        XCTAssertThrowsError(try provider.credentials()) { error in
            XCTAssertEqual((error as? CredentialError)?.code, .endpointError)
            XCTAssertEqual((error as? CredentialError)?.provider, "imds")
        }
    }

    func testFailureCode_isAnErrorWithoutTheBody() {
        let transport = FakeHTTPTransport { request in
            if request.method == "PUT" { return HTTPResponse(status: 200, body: Array("t".utf8)) }
            if request.url.hasSuffix("/") { return HTTPResponse(status: 200, body: Array("role".utf8)) }
            return HTTPResponse(status: 200, body: json(["Code": "AssumeRoleUnauthorizedAccess", "Message": "nope",
                                                         "SecretAccessKey": "LEAKED"]))
        }
        XCTAssertThrowsError(try InstanceMetadataCredentialProvider(environment: [:], transport: transport).credentials()) { error in
            XCTAssertEqual((error as? CredentialError)?.code, .endpointError)
            XCTAssertTrue("\(error)".contains("AssumeRoleUnauthorizedAccess"))
            XCTAssertFalse("\(error)".contains("LEAKED"))
        }
    }
}
