import XCTest
@testable import AWSClient

final class ProfileFileTests: XCTestCase {
    func testCredentialsFile_readsDefaultAndNamedProfiles() {
        let file = ProfileFile(parsing: """
            [default]
            aws_access_key_id = AKIDDEFAULT
            aws_secret_access_key = secretdefault

            [prod]
            aws_access_key_id=AKIDPROD
            aws_secret_access_key=secret/prod+1
            aws_session_token = token=with=equals
            """, kind: .credentials)
        XCTAssertEqual(file.profile("default"), ["aws_access_key_id": "AKIDDEFAULT", "aws_secret_access_key": "secretdefault"])
        XCTAssertEqual(file.value("aws_secret_access_key", profile: "prod"), "secret/prod+1")
        XCTAssertEqual(file.value("aws_session_token", profile: "prod"), "token=with=equals")
        XCTAssertNil(file.profile("missing"))
    }

    func testConfigFile_usesProfilePrefixExceptForDefault_andSkipsOtherSections() {
        let file = ProfileFile(parsing: """
            [default]
            region = eu-west-1
            [profile  staging ]
            region = us-west-2
            [staging]
            region = ignored-not-a-profile
            [sso-session corp]
            sso_region = us-east-1
            [profileless]
            region = ignored
            """, kind: .config)
        XCTAssertEqual(file.value("region", profile: "default"), "eu-west-1")
        XCTAssertEqual(file.value("region", profile: "staging"), "us-west-2")
        XCTAssertEqual(Set(file.profiles.keys), ["default", "staging"])
    }

    func testConfigFile_profileDefaultBeatsPlainDefault() {
        let file = ProfileFile(parsing: """
            [profile default]
            region = from-profile-default
            [default]
            region = from-plain-default
            """, kind: .config)
        XCTAssertEqual(file.value("region", profile: "default"), "from-profile-default")
    }

    func testCredentialsFile_profilePrefixIsPartOfTheName() {
        let file = ProfileFile(parsing: "[profile x]\naws_access_key_id = A\n", kind: .credentials)
        XCTAssertNil(file.profile("x"))
        XCTAssertNotNil(file.profile("profile x"))
    }

    func testComments_andWhitespace_areIgnored() {
        let file = ProfileFile(parsing: """
            # a comment
            ; another comment
            [default] # trailing comment after a section
              # indented comment
            aws_access_key_id = AKID   # trailing comment
            aws_secret_access_key = abc#notacomment;either
            region	=	us-east-1	; tab separated
            """, kind: .config)
        XCTAssertEqual(file.profile("default"), [
            "aws_access_key_id": "AKID",
            "aws_secret_access_key": "abc#notacomment;either",
            "region": "us-east-1",
        ])
    }

    func testKeys_areCaseInsensitive_andCRLFIsAccepted() {
        let file = ProfileFile(parsing: "[default]\r\nAWS_Access_Key_ID = AKID\r\nAws_Secret_Access_Key = S\r\n", kind: .credentials)
        XCTAssertEqual(file.value("aws_access_key_id", profile: "default"), "AKID")
        XCTAssertEqual(file.value("AWS_SECRET_ACCESS_KEY", profile: "default"), "S")
    }

    func testNestedSettings_continueTheirProperty_andRepeatedSectionsMerge() {
        let file = ProfileFile(parsing: """
            [profile a]
            s3 =
              max_concurrent_requests = 20
              addressing_style = path
            region = us-east-1
            [profile a]
            region = us-east-2
            output = json
            """, kind: .config)
        XCTAssertEqual(file.value("s3", profile: "a"), "max_concurrent_requests = 20\naddressing_style = path")
        XCTAssertEqual(file.value("region", profile: "a"), "us-east-2")
        XCTAssertEqual(file.value("output", profile: "a"), "json")
    }

    func testUniformlyIndentedProperties_areNotContinuations() {
        let file = ProfileFile(parsing: "[default]\n  aws_access_key_id = A\n  aws_secret_access_key = B\n", kind: .credentials)
        XCTAssertEqual(file.profile("default"), ["aws_access_key_id": "A", "aws_secret_access_key": "B"])
    }

    func testEmptySection_isAProfileWithNoSettings_andLinesBeforeAnySectionAreIgnored() {
        let file = ProfileFile(parsing: "orphan = 1\n[empty]\n", kind: .credentials)
        XCTAssertEqual(file.profiles, ["empty": [:]])
    }

    func testLoad_missingFileIsNil() throws {
        XCTAssertNil(try ProfileFile.load(path: "/nonexistent/ferry/credentials", kind: .credentials))
    }
}
