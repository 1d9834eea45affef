import XCTest
@testable import AWSClient

final class ProfileCredentialProviderTests: XCTestCase {
    var home: URL!

    override func setUpWithError() throws { home = try makeTemporaryDirectory() }
    override func tearDownWithError() throws { try FileManager.default.removeItem(at: home) }

    var credentialsURL: URL { home.appendingPathComponent(".aws/credentials") }
    var configURL: URL { home.appendingPathComponent(".aws/config") }
    func environment(_ extra: [String: String] = [:]) -> [String: String] {
        ["HOME": home.path].merging(extra) { $1 }
    }

    func testNoFiles_andNoProfileSet_isNotConfigured() throws {
        XCTAssertNil(try ProfileCredentialProvider(environment: environment()).credentials())
    }

    func testDefaultProfile_fromCredentialsFile() throws {
        try write("[default]\naws_access_key_id = AKIDDEFAULT\naws_secret_access_key = s3cr3t\n", to: credentialsURL)
        let credentials = try ProfileCredentialProvider(environment: environment()).credentials()
        XCTAssertEqual(credentials, Credentials(accessKeyId: "AKIDDEFAULT", secretAccessKey: "s3cr3t"))
    }

    func testNamedProfile_fromAWSProfile_withSessionToken() throws {
        try write("""
            [default]
            aws_access_key_id = AKIDDEFAULT
            aws_secret_access_key = s1
            [prod]
            aws_access_key_id = AKIDPROD
            aws_secret_access_key = s2
            aws_session_token = tok
            """, to: credentialsURL)
        let credentials = try ProfileCredentialProvider(environment: environment(["AWS_PROFILE": "prod"])).credentials()
        XCTAssertEqual(credentials, Credentials(accessKeyId: "AKIDPROD", secretAccessKey: "s2", sessionToken: "tok"))
    }

    func testExplicitProfileArgument_beatsAWSProfile() throws {
        try write("[a]\naws_access_key_id = A\naws_secret_access_key = SA\n[b]\naws_access_key_id = B\naws_secret_access_key = SB\n",
                  to: credentialsURL)
        let provider = ProfileCredentialProvider(environment: environment(["AWS_PROFILE": "a"]), profile: "b")
        XCTAssertEqual(try provider.credentials()?.accessKeyId, "B")
    }

    func testConfigFile_profileSection() throws {
        try write("[profile dev]\naws_access_key_id = AKIDDEV\naws_secret_access_key = sdev\nregion = eu-central-1\n", to: configURL)
        let env = environment(["AWS_PROFILE": "dev"])
        XCTAssertEqual(try ProfileCredentialProvider(environment: env).credentials()?.accessKeyId, "AKIDDEV")
        XCTAssertEqual(try SharedConfigFiles.load(environment: env).region, "eu-central-1")
    }

    func testCredentialsFile_winsOverConfigFile_forTheSameProfile() throws {
        try write("[default]\naws_access_key_id = FROMCREDENTIALS\naws_secret_access_key = c\n", to: credentialsURL)
        try write("[default]\naws_access_key_id = FROMCONFIG\naws_secret_access_key = k\nregion = us-west-1\n", to: configURL)
        let credentials = try ProfileCredentialProvider(environment: environment()).credentials()
        XCTAssertEqual(credentials?.accessKeyId, "FROMCREDENTIALS")
        XCTAssertEqual(credentials?.secretAccessKey, "c")
        XCTAssertEqual(try SharedConfigFiles.load(environment: environment()).region, "us-west-1")
    }

    func testFileLocations_comeFromEnvironmentVariables() throws {
        let credentials = home.appendingPathComponent("elsewhere/creds")
        let config = home.appendingPathComponent("elsewhere/conf")
        try write("[x]\naws_access_key_id = AKIDX\naws_secret_access_key = sx\n", to: credentials)
        try write("[profile x]\nregion = ap-south-1\n", to: config)
        let env = environment(["AWS_SHARED_CREDENTIALS_FILE": credentials.path, "AWS_CONFIG_FILE": config.path, "AWS_PROFILE": "x"])
        XCTAssertEqual(try ProfileCredentialProvider(environment: env).credentials()?.accessKeyId, "AKIDX")
        let files = try SharedConfigFiles.load(environment: env)
        XCTAssertEqual(files.region, "ap-south-1")
        XCTAssertEqual(files.credentialsPath, credentials.path)
    }

    func testTildeInFileVariable_isTheHomeDirectory() throws {
        try write("[default]\naws_access_key_id = T\naws_secret_access_key = t\n", to: home.appendingPathComponent("c"))
        let env = environment(["AWS_SHARED_CREDENTIALS_FILE": "~/c"])
        XCTAssertEqual(try ProfileCredentialProvider(environment: env).credentials()?.accessKeyId, "T")
    }

    func testMissingNamedProfile_isAnErrorNamingProfileAndFiles() throws {
        try write("[default]\naws_access_key_id = A\naws_secret_access_key = S\n", to: credentialsURL)
        let provider = ProfileCredentialProvider(environment: environment(["AWS_PROFILE": "typo"]))
        XCTAssertThrowsError(try provider.credentials()) { error in
            guard let error = error as? CredentialError else { return XCTFail("unexpected \(error)") }
            XCTAssertEqual(error.code, .profileNotFound)
            XCTAssertEqual(error.provider, "profile")
            XCTAssertTrue(error.message.contains("'typo'"), error.message)
            XCTAssertTrue(error.message.contains(self.credentialsURL.path), error.message)
            XCTAssertTrue(error.message.contains("\(self.configURL.path) (missing)"), error.message)
        }
    }

    func testMissingNamedProfile_isAnErrorEvenWithoutFiles() {
        XCTAssertThrowsError(try ProfileCredentialProvider(environment: environment(["AWS_PROFILE": "prod"])).credentials()) {
            XCTAssertEqual(($0 as? CredentialError)?.code, .profileNotFound)
        }
    }

    func testProfileWithOnlyRegion_isNotConfigured() throws {
        try write("[default]\nregion = us-east-1\n", to: configURL)
        XCTAssertNil(try ProfileCredentialProvider(environment: environment()).credentials())
    }

    func testKeyIdWithoutSecret_isIncomplete_andTheMessageHasNoSecret() throws {
        try write("[default]\naws_access_key_id = AKIDONLY\naws_session_token = SECRETTOKEN\n", to: credentialsURL)
        XCTAssertThrowsError(try ProfileCredentialProvider(environment: environment()).credentials()) { error in
            XCTAssertEqual((error as? CredentialError)?.code, .incomplete)
            XCTAssertFalse("\(error)".contains("SECRETTOKEN"))
        }
    }

    func testRoleProfile_isReportedAsUnsupported() throws {
        try write("[profile deploy]\nrole_arn = arn:aws:iam::123456789012:role/x\nsource_profile = default\n", to: configURL)
        XCTAssertThrowsError(try ProfileCredentialProvider(environment: environment(["AWS_PROFILE": "deploy"])).credentials()) { error in
            XCTAssertEqual((error as? CredentialError)?.code, .unsupportedSource)
            XCTAssertTrue("\(error)".contains("role_arn"))
        }
    }
}
