import XCTest
@testable import AWSClient

/// Each signing step on one DynamoDB request, checked by hand against an
/// independent implementation (Python's hashlib/hmac), plus the rules that
/// the test suite does not reach.
final class SigV4SignerStepTests: XCTestCase {
    let credentials = Credentials(accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    /// 2015-08-30T12:36:00Z
    let date = Date(timeIntervalSince1970: 1_440_938_160)

    var describeTable: HTTPRequest {
        HTTPRequest(method: "POST", url: "https://dynamodb.us-east-1.amazonaws.com/",
                    headers: [("Content-Type", "application/x-amz-json-1.0"),
                              ("X-Amz-Target", "DynamoDB_20120810.DescribeTable")],
                    body: Array(#"{"TableName":"orders"}"#.utf8))
    }

    var signer: SigV4Signer { SigV4Signer(credentials: credentials, region: "us-east-1", service: "dynamodb", keyCache: nil) }

    let expectedCanonicalRequest = """
        POST
        /

        content-type:application/x-amz-json-1.0
        host:dynamodb.us-east-1.amazonaws.com
        x-amz-date:20150830T123600Z
        x-amz-target:DynamoDB_20120810.DescribeTable

        content-type;host;x-amz-date;x-amz-target
        fc37e9ff30f42b703d978dcbb71b9553a5182da4a8088bc79a758ee47ee6544e
        """
    let expectedStringToSign = """
        AWS4-HMAC-SHA256
        20150830T123600Z
        20150830/us-east-1/dynamodb/aws4_request
        acb2966c8cbf5d6884133e837fef159741693b5c5d98f591c3f3668ae67bc38b
        """
    let expectedSignature = "5a4d46e2861005646afd50e5bc167d2b27d0bd01a9a00511b2fa6b509e2174e0"

    // MARK: - The steps on the DynamoDB request

    func testAmzDate_formatsUTCCompact() {
        XCTAssertEqual(SigV4Signer.amzDate(date), "20150830T123600Z")
        XCTAssertEqual(SigV4Signer.amzDate(Date(timeIntervalSince1970: 0)), "19700101T000000Z")
        XCTAssertEqual(SigV4Signer.amzDate(Date(timeIntervalSince1970: 951_868_799.9)), "20000229T235959Z")
        XCTAssertEqual(SigV4Signer.amzDate(Date(timeIntervalSince1970: 4_102_444_800)), "21000101T000000Z")
    }

    func testPayloadHash_isSHA256OfBody() {
        XCTAssertEqual(Hashing.sha256Hex(describeTable.body), "fc37e9ff30f42b703d978dcbb71b9553a5182da4a8088bc79a758ee47ee6544e")
    }

    func testCanonicalRequest_forDynamoDBPost() {
        let headers = describeTable.headers + [("Host", "dynamodb.us-east-1.amazonaws.com"), ("X-Amz-Date", "20150830T123600Z")]
        let canonical = signer.canonicalRequest(method: "POST", path: "/", query: "", headers: headers,
                                                payloadHash: Hashing.sha256Hex(describeTable.body))
        XCTAssertEqual(canonical.request, expectedCanonicalRequest)
        XCTAssertEqual(canonical.signedHeaders, "content-type;host;x-amz-date;x-amz-target")
    }

    func testStringToSign_forDynamoDBPost() {
        XCTAssertEqual(signer.stringToSign(canonicalRequest: expectedCanonicalRequest, amzDate: "20150830T123600Z"), expectedStringToSign)
        XCTAssertEqual(signer.credentialScope(day: "20150830"), "20150830/us-east-1/dynamodb/aws4_request")
    }

    func testSigningKey_forDynamoDB() {
        XCTAssertEqual(Hashing.hex(signer.signingKey(day: "20150830")),
                       "44a00bf61392567a12c8a1af3f6227f121fdd3ffabe98527663649f33cbff4aa")
    }

    func testSigningKey_matchesAWSDocumentationExample() {
        // The derived-key example of the AWS General Reference (IAM, 2012-02-15).
        let iam = SigV4Signer(credentials: credentials, region: "us-east-1", service: "iam", keyCache: nil)
        XCTAssertEqual(Hashing.hex(iam.signingKey(day: "20120215")),
                       "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d")
    }

    func testSignature_forDynamoDBPost() {
        let key = signer.signingKey(day: "20150830")
        XCTAssertEqual(SigV4Signer.signature(stringToSign: expectedStringToSign, signingKey: key), expectedSignature)
    }

    func testAuthorizationHeader_listsCredentialScopeSignedHeadersAndSignature() {
        XCTAssertEqual(signer.authorizationHeader(day: "20150830", signedHeaders: "content-type;host;x-amz-date;x-amz-target",
                                                  signature: expectedSignature),
                       "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/dynamodb/aws4_request, "
                       + "SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=\(expectedSignature)")
    }

    func testSign_addsHostDateAndAuthorization_whenRequestHasNoHostHeader() {
        let signed = signer.sign(describeTable, signingDate: date)
        XCTAssertEqual(signed.headers.map(\.name), ["Host", "Content-Type", "X-Amz-Target", "X-Amz-Date", "Authorization"])
        XCTAssertEqual(signed.header("host"), "dynamodb.us-east-1.amazonaws.com")
        XCTAssertEqual(signed.header("x-amz-date"), "20150830T123600Z")
        XCTAssertEqual(signed.header("authorization"),
                       "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/dynamodb/aws4_request, "
                       + "SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=\(expectedSignature)")
        XCTAssertEqual(signed.body, describeTable.body)
        XCTAssertNil(signed.header("x-amz-content-sha256"), "only S3 (signBody) sends the payload hash")
    }

    func testSign_withSessionToken_sendsAndSignsToken() {
        var withToken = credentials
        withToken.sessionToken = "session-token"
        let signer = SigV4Signer(credentials: withToken, region: "us-east-1", service: "dynamodb", keyCache: nil)
        let result = signer.signature(for: describeTable, signingDate: date)
        XCTAssertEqual(result.signedHeaders, "content-type;host;x-amz-date;x-amz-security-token;x-amz-target")
        XCTAssertEqual(signer.sign(describeTable, signingDate: date).header("X-Amz-Security-Token"), "session-token")
    }

    func testSign_again_replacesEarlierSigningHeaders() {
        let first = signer.sign(describeTable, signingDate: date)
        let second = signer.sign(first, signingDate: date.addingTimeInterval(60))
        XCTAssertEqual(second.headers.filter { $0.name.lowercased() == "authorization" }.count, 1)
        XCTAssertEqual(second.headers.filter { $0.name.lowercased() == "x-amz-date" }.map(\.value), ["20150830T123700Z"])
        XCTAssertEqual(second.headers.filter { $0.name.lowercased() == "host" }.count, 1)
    }

    func testSign_leavesUserAgentOutOfTheSignature() {
        var request = describeTable
        request.headers.append(("User-Agent", "ferry/0.1"))
        XCTAssertEqual(signer.signature(for: request, signingDate: date).signature, expectedSignature)
    }

    func testSign_usesGivenPayloadHash_andS3SendsIt() {
        let s3 = SigV4Signer(credentials: credentials, region: "us-east-1", service: "s3", keyCache: nil)
        let get = HTTPRequest(method: "GET", url: "https://bucket.s3.us-east-1.amazonaws.com/AWSDynamoDB/01/manifest-summary.json")
        let signed = s3.sign(get, signingDate: date, payloadHash: "UNSIGNED-PAYLOAD")
        XCTAssertEqual(signed.header("x-amz-content-sha256"), "UNSIGNED-PAYLOAD")
        let result = s3.signature(for: get, signingDate: date, payloadHash: "UNSIGNED-PAYLOAD")
        XCTAssertTrue(result.canonicalRequest.hasSuffix("\nUNSIGNED-PAYLOAD"))
        XCTAssertEqual(result.signedHeaders, "host;x-amz-content-sha256;x-amz-date")
    }

    // MARK: - Canonicalization rules

    func testOptions_forS3_disableNormalizationAndDoubleEncoding() {
        XCTAssertEqual(SigV4Signer.Options.forService("s3"),
                       SigV4Signer.Options(normalizePath: false, doubleURIEncode: false, signBody: true))
        XCTAssertEqual(SigV4Signer.Options.forService("dynamodb"), SigV4Signer.Options())
    }

    func testCanonicalURI_doubleEncodesForDynamoDB_andKeepsWirePathForS3() {
        XCTAssertEqual(signer.canonicalURI("/a%20b/./c//d"), "/a%2520b/c/d")
        let s3 = SigV4Signer(credentials: credentials, region: "us-east-1", service: "s3")
        XCTAssertEqual(s3.canonicalURI("/a%20b/./c//d"), "/a%20b/./c//d")
        XCTAssertEqual(s3.canonicalURI(""), "/")
    }

    func testNormalizedPath_removesDotSegmentsAndEmptySegments() {
        XCTAssertEqual(SigV4Signer.normalizedPath("/"), "/")
        XCTAssertEqual(SigV4Signer.normalizedPath("/a/b/../c"), "/a/c")
        XCTAssertEqual(SigV4Signer.normalizedPath("/a/.."), "/")
        XCTAssertEqual(SigV4Signer.normalizedPath("/../.."), "/")
        XCTAssertEqual(SigV4Signer.normalizedPath("/a/."), "/a/")
        XCTAssertEqual(SigV4Signer.normalizedPath("//a//b//"), "/a/b/")
    }

    func testCanonicalQueryString_decodesEncodesAndSorts() {
        XCTAssertEqual(SigV4Signer.canonicalQueryString(""), "")
        XCTAssertEqual(SigV4Signer.canonicalQueryString("b=2&a=1&a=0"), "a=0&a=1&b=2")
        XCTAssertEqual(SigV4Signer.canonicalQueryString("flag&x="), "flag=&x=")
        XCTAssertEqual(SigV4Signer.canonicalQueryString("k=a b+c/d"), "k=a%20b%2Bc%2Fd")
        XCTAssertEqual(SigV4Signer.canonicalQueryString("k=a%2fb&&z=%zz"), "k=a%2Fb&z=%25zz")
        XCTAssertEqual(SigV4Signer.canonicalQueryString("prefix=AWSDynamoDB%2F&list-type=2"), "list-type=2&prefix=AWSDynamoDB%2F")
    }

    func testCanonicalHeaders_lowercasesSortsTrimsAndJoinsRepeats() {
        let result = SigV4Signer.canonicalHeaders([
            ("X-B", "  two   words "), ("x-a", "1"), ("X-A", "2"), ("x-c", "line1\n   line2"), ("x-d", ""),
        ])
        XCTAssertEqual(result.canonical, "x-a:1,2\nx-b:two words\nx-c:line1 line2\nx-d:\n")
        XCTAssertEqual(result.signed, "x-a;x-b;x-c;x-d")
    }

    func testURLParts_keepNonDefaultPortAndRawPath() {
        let local = SigV4URLParts("http://127.0.0.1:8000/some path?x=1#frag")
        XCTAssertEqual(local, SigV4URLParts(scheme: "http", hostHeader: "127.0.0.1:8000", path: "/some path", query: "x=1"))
        XCTAssertEqual(SigV4URLParts("https://Example.com:443").hostHeader, "example.com")
        XCTAssertEqual(SigV4URLParts("https://example.com:443").path, "/")
        XCTAssertEqual(SigV4URLParts("http://[::1]:8000/").hostHeader, "[::1]:8000")
        XCTAssertEqual(SigV4URLParts("http://[::1]/").hostHeader, "[::1]")
        XCTAssertEqual(SigV4URLParts("http://user:pw@host:80/?a").hostHeader, "host")
    }

    func testSign_signsNonDefaultPortInHost() {
        let local = HTTPRequest(method: "POST", url: "http://127.0.0.1:8000/", body: Array("{}".utf8))
        let result = signer.signature(for: local, signingDate: date)
        XCTAssertTrue(result.canonicalRequest.contains("\nhost:127.0.0.1:8000\n"))
    }

    // MARK: - Key cache

    func testKeyCache_reusesKeysAndEvictsLeastRecentlyUsed() {
        let cache = SigningKeyCache(capacity: 2)
        let dynamo = SigV4Signer(credentials: credentials, region: "us-east-1", service: "dynamodb", keyCache: cache)
        let s3 = SigV4Signer(credentials: credentials, region: "us-east-1", service: "s3", keyCache: cache)
        let uncached = SigV4Signer(credentials: credentials, region: "us-east-1", service: "dynamodb", keyCache: nil)

        XCTAssertEqual(dynamo.signingKey(day: "20150830"), uncached.signingKey(day: "20150830"))
        XCTAssertEqual(dynamo.signingKey(day: "20150830"), uncached.signingKey(day: "20150830"))
        XCTAssertEqual(cache.count, 1)
        _ = s3.signingKey(day: "20150830")
        _ = dynamo.signingKey(day: "20150831")
        XCTAssertEqual(cache.count, 2)

        var rotated = credentials
        rotated.secretAccessKey = "another-secret"
        let rotatedSigner = SigV4Signer(credentials: rotated, region: "us-east-1", service: "dynamodb", keyCache: cache)
        XCTAssertNotEqual(rotatedSigner.signingKey(day: "20150831"), dynamo.signingKey(day: "20150831"),
                          "a new secret must never reuse the old secret's key")
    }
}
