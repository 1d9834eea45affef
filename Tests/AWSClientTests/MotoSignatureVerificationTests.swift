import AWSClient
import DynamoModel
import Foundation
import XCTest

/// Against a moto server that checks every SigV4 signature: after the first
/// three calls (which create an IAM user, its policy and its access key),
/// each request must be signed with a key moto knows.
final class MotoSignatureVerificationTests: XCTestCase {
    func testSignedRequestsAreAccepted_andAWrongSecretIsRefusedClearly() throws {
        let url = try MotoEnvironment.authEndpoint()
        let http = CurlHTTPClient()

        // Restart moto's count of unauthenticated calls, so this test does
        // not depend on what ran before it.
        let reset = try http.send(HTTPRequest(method: "POST", url: url + "/moto-api/reset-auth", body: Array("3".utf8)),
                                  operation: "reset-auth")
        XCTAssertEqual(reset.status, 200)

        let bootstrap = StaticCredentialProvider(accessKeyId: "AKIDBOOTSTRAP", secretAccessKey: "unused")
        let user = MotoEnvironment.uniqueName("ferry")
        let policy = #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#
        _ = try iam(url, http, bootstrap, ["Action": "CreateUser", "UserName": user])
        _ = try iam(url, http, bootstrap, ["Action": "PutUserPolicy", "UserName": user, "PolicyName": "all",
                                           "PolicyDocument": policy])
        let keyXML = try iam(url, http, bootstrap, ["Action": "CreateAccessKey", "UserName": user])
        let keyId = try XCTUnwrap(Self.tag("AccessKeyId", keyXML))
        let secret = try XCTUnwrap(Self.tag("SecretAccessKey", keyXML))

        // From here on moto verifies signatures.
        let good = StaticCredentialProvider(accessKeyId: keyId, secretAccessKey: secret)
        let db = DynamoDBClient(endpoint: Endpoint(url: url, region: "us-east-1", service: .dynamodb, isCustom: true),
                                credentials: good, transport: http, retry: RetryPolicy(maxAttempts: 1))
        let name = MotoEnvironment.uniqueName("signed")
        _ = try db.createTable(MotoDynamoDBTests.table(name, stream: nil))
        let item: Item = ["pk": .s("k"), "sk": .n("1"), "email": .s("a@b.c"), "note": .s("signed")]
        try db.putItem(table: name, item: item)
        XCTAssertEqual(try db.getItem(table: name, key: ["pk": .s("k"), "sk": .n("1")]), item)
        XCTAssertTrue(try db.listTables().contains(name))

        let s3 = S3Client(endpoint: Endpoint(url: url, region: "us-east-1", service: .s3, isCustom: true),
                          credentials: good, transport: http, retry: RetryPolicy(maxAttempts: 1))
        let bucket = MotoEnvironment.uniqueName("signed-bucket")
        try s3.createBucket(bucket)
        try s3.putObject(bucket: bucket, key: "a/b c.json", body: Array("{\"x\":1}".utf8))
        XCTAssertEqual(try s3.getObjectBytes(bucket: bucket, key: "a/b c.json"), Array("{\"x\":1}".utf8))

        // The same key id with a wrong secret: refused, and the error says what to check.
        let wrong = StaticCredentialProvider(accessKeyId: keyId, secretAccessKey: secret + "x")
        let badDB = DynamoDBClient(endpoint: db.json.endpoint, credentials: wrong, transport: http,
                                   retry: RetryPolicy(maxAttempts: 1))
        XCTAssertThrowsError(try badDB.getItem(table: name, key: ["pk": .s("k"), "sk": .n("1")])) { error in
            guard let e = error as? AWSClientError else { return XCTFail("\(error)") }
            XCTAssertEqual(e.retryClass, .terminal)
            let text = "\(e)"
            XCTAssertTrue(text.contains("GetItem"), text)
            XCTAssertTrue(text.contains("check the secret access key"), text)
            XCTAssertFalse(text.contains(secret), "the secret never appears in an error")
        }
        let badS3 = S3Client(endpoint: s3.endpoint, credentials: wrong, transport: http, retry: RetryPolicy(maxAttempts: 1))
        XCTAssertThrowsError(try badS3.getObjectBytes(bucket: bucket, key: "a/b c.json")) { error in
            XCTAssertEqual((error as? AWSClientError)?.serviceError?.code, "SignatureDoesNotMatch", "\(error)")
        }

        // A key id moto never issued.
        let unknown = DynamoDBClient(endpoint: db.json.endpoint,
                                     credentials: StaticCredentialProvider(accessKeyId: "AKIDUNKNOWN000000000", secretAccessKey: "s"),
                                     transport: http, retry: RetryPolicy(maxAttempts: 1))
        XCTAssertThrowsError(try unknown.listTables()) { error in
            XCTAssertTrue("\(error)".contains("access key id is not known"), "\(error)")
        }
    }

    /// An IAM query-protocol call (form body), signed for service "iam".
    private func iam(_ url: String, _ http: CurlHTTPClient, _ creds: StaticCredentialProvider,
                     _ params: [String: String]) throws -> String {
        var all = params
        all["Version"] = "2010-05-08"
        let body = all.sorted { $0.key < $1.key }
            .map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }
            .joined(separator: "&")
        let request = HTTPRequest(method: "POST", url: url + "/",
                                  headers: [("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")],
                                  body: Array(body.utf8))
        let signed = SigV4Signer(credentials: try XCTUnwrap(creds.credentials()), region: "us-east-1", service: "iam")
            .sign(request, signingDate: Date())
        let response = try http.send(signed, operation: params["Action"] ?? "IAM")
        XCTAssertEqual(response.status, 200, response.bodyText)
        return response.bodyText
    }

    private static func tag(_ name: String, _ xml: String) -> String? {
        guard let start = xml.range(of: "<\(name)>"), let end = xml.range(of: "</\(name)>", range: start.upperBound..<xml.endIndex) else {
            return nil
        }
        return String(xml[start.upperBound..<end.lowerBound])
    }
}
