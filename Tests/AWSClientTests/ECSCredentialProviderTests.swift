import XCTest
@testable import AWSClient

final class ECSCredentialProviderTests: XCTestCase {
    /// Answers like the ECS agent: credentials for the right path and token, 4xx otherwise.
    func ecsAgent(path: String = "/v2/credentials/abc-123", token: String? = nil,
                  expiration: String = "2024-05-01T12:00:00Z") -> FakeHTTPTransport {
        FakeHTTPTransport { request in
            guard request.method == "GET", SigV4URLParts(request.url).path == path else { return HTTPResponse(status: 404) }
            if let token, request.header("Authorization") != token { return HTTPResponse(status: 401) }
            return HTTPResponse(status: 200, headers: ["content-type": "application/json"], body: json([
                "RoleArn": "arn:aws:iam::123456789012:role/ferry",
                "AccessKeyId": "ASIAECS", "SecretAccessKey": "ecs-secret", "Token": "ecs-token", "Expiration": expiration,
            ]))
        }
    }

    func testNoVariables_isNotConfigured() throws {
        let transport = FakeHTTPTransport.unused()
        XCTAssertNil(try ECSCredentialProvider(environment: [:], transport: transport).credentials())
        XCTAssertTrue(transport.requests.isEmpty)
    }

    func testRelativeURI_goesToTheECSAgent_andParsesExpiry() throws {
        let transport = ecsAgent()
        let provider = ECSCredentialProvider(environment: ["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/credentials/abc-123"],
                                             transport: transport)
        let credentials = try XCTUnwrap(try provider.credentials())
        XCTAssertEqual(credentials, Credentials(accessKeyId: "ASIAECS", secretAccessKey: "ecs-secret", sessionToken: "ecs-token",
                                                expiration: Date(timeIntervalSince1970: 1_714_564_800)))
        XCTAssertEqual(transport.requests.map(\.url), ["http://169.254.170.2/v2/credentials/abc-123"])
        XCTAssertNil(transport.requests[0].header("Authorization"))
    }

    func testRelativeURI_withInjectedHost() throws {
        let transport = ecsAgent()
        let provider = ECSCredentialProvider(environment: ["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "v2/credentials/abc-123"],
                                             transport: transport, containerHost: "http://127.0.0.1:51678/")
        XCTAssertNotNil(try provider.credentials())
        XCTAssertEqual(transport.requests.map(\.url), ["http://127.0.0.1:51678/v2/credentials/abc-123"])
    }

    func testFullURI_sendsAuthorizationToken() throws {
        let transport = ecsAgent(path: "/creds", token: "Bearer pod-token")
        let provider = ECSCredentialProvider(environment: [
            "AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://127.0.0.1:8080/creds",
            "AWS_CONTAINER_AUTHORIZATION_TOKEN": "Bearer pod-token",
        ], transport: transport)
        XCTAssertEqual(try provider.credentials()?.accessKeyId, "ASIAECS")
        XCTAssertEqual(transport.requests.first?.header("Authorization"), "Bearer pod-token")
    }

    func testTokenFile_beatsTokenVariable_andIsTrimmed() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let tokenFile = directory.appendingPathComponent("token")
        try write("eks-pod-identity-token\n", to: tokenFile)
        let transport = ecsAgent(path: "/v1/credentials", token: "eks-pod-identity-token")
        let provider = ECSCredentialProvider(environment: [
            "AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://169.254.170.23/v1/credentials",
            "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": tokenFile.path,
            "AWS_CONTAINER_AUTHORIZATION_TOKEN": "stale-variable-token",
        ], transport: transport)
        XCTAssertEqual(try provider.credentials()?.accessKeyId, "ASIAECS")
        XCTAssertEqual(transport.requests.first?.header("Authorization"), "eks-pod-identity-token")
    }

    func testRelativeURI_beatsFullURI() throws {
        let transport = ecsAgent()
        let provider = ECSCredentialProvider(environment: [
            "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/credentials/abc-123",
            "AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://127.0.0.1/other",
        ], transport: transport)
        XCTAssertEqual(try provider.endpointURL(), "http://169.254.170.2/v2/credentials/abc-123")
    }

    func testFullURI_overPlainHTTPToARemoteHost_isRefused() {
        let transport = FakeHTTPTransport.unused()
        for uri in ["http://example.com/creds", "http://169.254.169.254/creds", "ftp://127.0.0.1/x", "http://127.0.0.1.evil.com/"] {
            let provider = ECSCredentialProvider(environment: ["AWS_CONTAINER_CREDENTIALS_FULL_URI": uri], transport: transport)
            XCTAssertThrowsError(try provider.credentials(), uri) {
                XCTAssertEqual(($0 as? CredentialError)?.code, .invalidConfiguration, uri)
            }
        }
        XCTAssertTrue(transport.requests.isEmpty)
        let https = ECSCredentialProvider(environment: ["AWS_CONTAINER_CREDENTIALS_FULL_URI": "https://creds.example.com/x"],
                                          transport: transport)
        XCTAssertEqual(try https.endpointURL(), "https://creds.example.com/x")
        let ipv6 = ECSCredentialProvider(environment: ["AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://[::1]:8080/x"], transport: transport)
        XCTAssertEqual(try ipv6.endpointURL(), "http://[::1]:8080/x")
    }

    func testErrorStatus_isAnEndpointError_withoutTokenOrBody() {
        let transport = FakeHTTPTransport { _ in HTTPResponse(status: 500, body: Array("SecretAccessKey=oops".utf8)) }
        let provider = ECSCredentialProvider(environment: [
            "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/credentials/abc-123",
            "AWS_CONTAINER_AUTHORIZATION_TOKEN": "do-not-print",
        ], transport: transport)
        XCTAssertThrowsError(try provider.credentials()) { error in
            XCTAssertEqual((error as? CredentialError)?.code, .endpointError)
            XCTAssertTrue("\(error)".contains("HTTP 500"))
            XCTAssertFalse("\(error)".contains("do-not-print"))
            XCTAssertFalse("\(error)".contains("oops"))
            XCTAssertFalse("\(error)".contains("abc-123"), "the relative URI is a capability; keep it out of logs")
        }
    }

    func testUnreachable_isATransportError() {
        let provider = ECSCredentialProvider(environment: ["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/x"], transport: FakeHTTPTransport.unreachable())
        XCTAssertThrowsError(try provider.credentials()) { XCTAssertEqual(($0 as? CredentialError)?.code, .transport) }
    }

    func testMalformedJSON_andBadExpiration_areMalformedResponses() {
        let env = ["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/credentials/abc-123"]
        let notJSON = FakeHTTPTransport { _ in HTTPResponse(status: 200, body: Array("<html>".utf8)) }
        XCTAssertThrowsError(try ECSCredentialProvider(environment: env, transport: notJSON).credentials()) {
            XCTAssertEqual(($0 as? CredentialError)?.code, .malformedResponse)
        }
        XCTAssertThrowsError(try ECSCredentialProvider(environment: env, transport: ecsAgent(expiration: "tomorrow")).credentials()) {
            XCTAssertEqual(($0 as? CredentialError)?.code, .malformedResponse)
        }
    }

    func testExpiration_withFractionalSeconds() throws {
        let env = ["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/credentials/abc-123"]
        let provider = ECSCredentialProvider(environment: env, transport: ecsAgent(expiration: "2024-05-01T12:00:00.500Z"))
        let expiration = try XCTUnwrap(try provider.credentials()?.expiration)
        XCTAssertEqual(expiration.timeIntervalSince1970, 1_714_564_800.5, accuracy: 0.001)
    }
}

extension ECSCredentialProviderTests {
    func testTokenWithLineBreak_isRefused() {
        for token in ["a\r\nInjected: header", "a\nb"] {
            let provider = ECSCredentialProvider(environment: ["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/x",
                                                              "AWS_CONTAINER_AUTHORIZATION_TOKEN": token],
                                                 transport: FakeHTTPTransport.unused())
            XCTAssertThrowsError(try provider.credentials()) {
                XCTAssertEqual(($0 as? CredentialError)?.code, .invalidConfiguration)
                XCTAssertFalse("\($0)".contains("Injected"))
            }
        }
    }
}
