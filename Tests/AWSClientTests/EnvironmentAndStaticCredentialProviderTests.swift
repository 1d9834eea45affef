import XCTest
@testable import AWSClient

final class EnvironmentAndStaticCredentialProviderTests: XCTestCase {
    func testEnvironment_readsKeysAndOptionalToken() throws {
        let provider = EnvironmentCredentialProvider(environment: [
            "AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_SESSION_TOKEN": "token",
        ])
        XCTAssertEqual(try provider.credentials(), Credentials(accessKeyId: "AKID", secretAccessKey: "secret", sessionToken: "token"))
        let withoutToken = EnvironmentCredentialProvider(environment: ["AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "secret",
                                                                       "AWS_SESSION_TOKEN": ""])
        XCTAssertNil(try withoutToken.credentials()?.sessionToken)
    }

    func testEnvironment_unsetOrEmpty_isNotConfigured() throws {
        XCTAssertNil(try EnvironmentCredentialProvider(environment: [:]).credentials())
        XCTAssertNil(try EnvironmentCredentialProvider(environment: ["AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""]).credentials())
    }

    func testEnvironment_halfSet_namesTheMissingVariable_notTheSecret() {
        XCTAssertThrowsError(try EnvironmentCredentialProvider(environment: ["AWS_SECRET_ACCESS_KEY": "TOPSECRET"]).credentials()) { error in
            XCTAssertEqual((error as? CredentialError)?.code, .incomplete)
            XCTAssertTrue("\(error)".contains("AWS_ACCESS_KEY_ID is not"))
            XCTAssertFalse("\(error)".contains("TOPSECRET"))
        }
    }

    func testStatic_returnsItsCredentials_andRejectsEmptyOnes() throws {
        XCTAssertEqual(try StaticCredentialProvider(accessKeyId: "A", secretAccessKey: "S").credentials()?.accessKeyId, "A")
        let alternator = StaticCredentialProvider(accessKeyId: "alternator", secretAccessKey: "", name: "alternator")
        XCTAssertEqual(alternator.name, "alternator")
        XCTAssertThrowsError(try alternator.credentials()) { XCTAssertEqual(($0 as? CredentialError)?.code, .incomplete) }
    }

    func testCredentialsDescription_redactsSecretAndToken() {
        let text = "\(Credentials(accessKeyId: "AKIDEXAMPLE", secretAccessKey: "SECRETKEY", sessionToken: "TOKENVALUE"))"
        XCTAssertFalse(text.contains("SECRETKEY"))
        XCTAssertFalse(text.contains("TOKENVALUE"))
    }
}
