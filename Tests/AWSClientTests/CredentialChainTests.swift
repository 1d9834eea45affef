import XCTest
@testable import AWSClient

final class CredentialChainTests: XCTestCase {
    var home: URL!
    let clock = TestClock()

    override func setUpWithError() throws { home = try makeTemporaryDirectory() }
    override func tearDownWithError() throws { try FileManager.default.removeItem(at: home) }

    let explicit = Credentials(accessKeyId: "AKIDEXPLICIT", secretAccessKey: "explicit-secret")
    let envVariables = ["AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SECRET_ACCESS_KEY": "env-secret"]
    let ecsVariables = ["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/credentials/abc"]

    /// An environment whose home is the test's temporary directory, never the real one.
    func environment(_ parts: [String: String]...) -> [String: String] {
        parts.reduce(["HOME": home.path]) { $0.merging($1) { $1 } }
    }

    func writeProfile() throws {
        try write("[default]\naws_access_key_id = AKIDPROFILE\naws_secret_access_key = profile-secret\n",
                  to: home.appendingPathComponent(".aws/credentials"))
    }

    /// The ECS agent and instance metadata, each on its own transport so a test can see which was asked.
    func makeServices() -> (ecs: FakeHTTPTransport, imds: FakeHTTPTransport) {
        let ecs = FakeHTTPTransport { _ in
            HTTPResponse(status: 200, body: json(["AccessKeyId": "ASIAECS", "SecretAccessKey": "ecs-secret",
                                                  "Token": "t", "Expiration": "2030-01-01T00:00:00Z"]))
        }
        let metadata = FakeInstanceMetadata(clock: clock)
        return (ecs, FakeHTTPTransport { metadata.answer($0) })
    }

    func chain(explicit: Credentials? = nil, _ environment: [String: String],
               _ services: (ecs: FakeHTTPTransport, imds: FakeHTTPTransport)) -> CredentialChain {
        .default(explicit: explicit, environment: environment, transport: services.ecs, metadataTransport: services.imds,
                 clock: clock.closure)
    }

    // MARK: - Order of the default chain

    func testDefaultChain_order() {
        let names = CredentialChain.default(explicit: explicit, environment: environment(), transport: FakeHTTPTransport.unused())
            .providers.map(\.name)
        XCTAssertEqual(names, ["config", "environment", "profile", "ecs", "imds"])
        XCTAssertEqual(CredentialChain.default(environment: environment(), transport: FakeHTTPTransport.unused()).providers.map(\.name),
                       ["environment", "profile", "ecs", "imds"])
    }

    func testExplicit_beatsEnvironment() throws {
        try writeProfile()
        let services = makeServices()
        let found = try chain(explicit: explicit, environment(envVariables, ecsVariables), services).resolve()
        XCTAssertEqual(found.credentials, explicit)
        XCTAssertEqual(found.provider, "config")
        XCTAssertTrue(services.ecs.requests.isEmpty && services.imds.requests.isEmpty)
    }

    func testEnvironment_beatsProfile() throws {
        try writeProfile()
        let found = try chain(environment(envVariables, ecsVariables), makeServices()).resolve()
        XCTAssertEqual(found.credentials.accessKeyId, "AKIDENV")
        XCTAssertEqual(found.provider, "environment")
    }

    func testProfile_beatsECS() throws {
        try writeProfile()
        let services = makeServices()
        let found = try chain(environment(ecsVariables), services).resolve()
        XCTAssertEqual(found.credentials.accessKeyId, "AKIDPROFILE")
        XCTAssertEqual(found.provider, "profile")
        XCTAssertTrue(services.ecs.requests.isEmpty)
    }

    func testECS_beatsInstanceMetadata() throws {
        let services = makeServices()
        let found = try chain(environment(ecsVariables), services).resolve()
        XCTAssertEqual(found.credentials.accessKeyId, "ASIAECS")
        XCTAssertEqual(found.provider, "ecs")
        XCTAssertEqual(services.ecs.requests.count, 1)
        XCTAssertTrue(services.imds.requests.isEmpty)
    }

    func testInstanceMetadata_isTheLastResort() throws {
        let services = makeServices()
        let found = try chain(environment(), services).resolve()
        XCTAssertEqual(found.credentials.accessKeyId, "ASIAIMDS1")
        XCTAssertEqual(found.provider, "imds")
    }

    func testNothingConfigured_isNil_andResolveSaysWhatWasTried() throws {
        let chain = CredentialChain.default(environment: environment(), transport: FakeHTTPTransport.unreachable())
        XCTAssertNil(try chain.credentials())
        XCTAssertThrowsError(try chain.resolve()) { error in
            guard let error = error as? CredentialError else { return XCTFail("unexpected \(error)") }
            XCTAssertEqual(error.code, .noCredentials)
            XCTAssertTrue(error.message.contains("environment, profile, ecs, imds"), error.message)
        }
    }

    func testBrokenProvider_stopsTheChain_andIsNamed() throws {
        let services = makeServices()
        let chain = chain(environment(["AWS_PROFILE": "missing"]), services)
        XCTAssertThrowsError(try chain.resolve()) { error in
            XCTAssertEqual((error as? CredentialError)?.code, .profileNotFound)
            XCTAssertEqual((error as? CredentialError)?.provider, "profile")
        }
        XCTAssertTrue(services.imds.requests.isEmpty, "a broken profile must not fall through to instance credentials")
    }

    func testHalfSetEnvironment_isAnError() {
        let chain = chain(environment(["AWS_ACCESS_KEY_ID": "AKIDENV"]), makeServices())
        XCTAssertThrowsError(try chain.resolve()) { error in
            XCTAssertEqual((error as? CredentialError)?.code, .incomplete)
            XCTAssertEqual((error as? CredentialError)?.provider, "environment")
        }
    }

    // MARK: - Chain mechanics with fake providers

    func testFirstNonNilWins_laterProvidersAreNotAsked() throws {
        let a = FakeCredentialProvider("a", .none)
        let b = FakeCredentialProvider("b", .credentials(Credentials(accessKeyId: "B", secretAccessKey: "b")))
        let c = FakeCredentialProvider("c", .credentials(Credentials(accessKeyId: "C", secretAccessKey: "c")))
        let found = try CredentialChain([a, b, c]).resolve()
        XCTAssertEqual(found.credentials.accessKeyId, "B")
        XCTAssertEqual(found.provider, "b")
        XCTAssertEqual([a.callCount, b.callCount, c.callCount], [1, 1, 0])
    }

    func testForeignErrors_areWrappedWithoutTheirDescription() {
        struct LeakyError: Error, CustomStringConvertible { var description: String { "secret=hunter2" } }
        struct Leaky: CredentialProvider {
            let name = "custom"
            func credentials() throws -> Credentials? { throw LeakyError() }
        }
        XCTAssertThrowsError(try CredentialChain([Leaky()]).credentials()) { error in
            XCTAssertEqual((error as? CredentialError)?.code, .providerFailed)
            XCTAssertEqual((error as? CredentialError)?.provider, "custom")
            XCTAssertFalse("\(error)".contains("hunter2"))
        }
    }

    func testCredentialErrorDescription_hasProviderMessageAndCode() {
        let error = CredentialError(.endpointError, provider: "imds", message: "instance metadata answered HTTP 500")
        XCTAssertEqual("\(error)", "imds credentials: instance metadata answered HTTP 500 [credentials.endpoint_error]")
    }
}
