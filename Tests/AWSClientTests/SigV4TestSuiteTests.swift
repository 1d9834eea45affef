import XCTest
@testable import AWSClient

/// Every header-signing case of the AWS SigV4 test suite (aws-c-auth).
final class SigV4TestSuiteTests: XCTestCase {
    func testSuite_hasEveryCase() throws {
        let cases = try SigV4TestCase.loadAll()
        XCTAssertEqual(cases.count, 38, "case folders found: \(cases.map(\.name))")
    }

    func testSuite_everyCaseMatchesCanonicalRequestStringToSignSignatureAndHeaders() throws {
        let cases = try SigV4TestCase.loadAll()
        var failing: [String] = []
        for testCase in cases {
            let problems = try check(testCase)
            if !problems.isEmpty {
                failing.append(testCase.name)
                XCTFail("\(testCase.name):\n" + problems.joined(separator: "\n"))
            }
        }
        XCTAssertEqual(failing, [], "failing SigV4 suite cases")
    }

    /// The differences between what the signer produced and what the case expects.
    private func check(_ testCase: SigV4TestCase) throws -> [String] {
        let signer = SigV4Signer(credentials: testCase.credentials, region: testCase.context.region,
                                 service: testCase.context.service, options: testCase.options, keyCache: nil)
        let request = try testCase.request.httpRequest()
        let date = try testCase.signingDate
        let result = signer.signature(for: request, signingDate: date)

        var problems: [String] = []
        func expect(_ what: String, _ actual: String, _ expected: String) {
            if actual != expected { problems.append("  \(what):\n    got:      \(actual.debugDescription)\n    expected: \(expected.debugDescription)") }
        }
        expect("canonical request", result.canonicalRequest, testCase.expectedCanonicalRequest)
        expect("string to sign", result.stringToSign, testCase.expectedStringToSign)
        expect("signature", result.signature, testCase.expectedSignature)

        let expectedHeaders = testCase.expectedSignedRequest.headers
        expect("Authorization header", result.authorization,
               expectedHeaders.first { $0.name == "Authorization" }?.value ?? "<none>")

        let signed = signer.sign(request, signingDate: date)
        let actualHeaders = signed.headers.map { RawHTTPRequest.Header(name: $0.name, value: $0.value) }
        if actualHeaders != expectedHeaders {
            problems.append("  signed request headers:\n    got:      \(actualHeaders)\n    expected: \(expectedHeaders)")
        }
        if signed.body != testCase.expectedSignedRequest.body { problems.append("  signed request body differs") }
        return problems
    }
}

/// The parser the suite relies on, on the shapes the suite uses.
final class RawHTTPRequestParserTests: XCTestCase {
    func testParses_requestLineWithSpaces_foldedHeaders_CRLF_andBody() throws {
        let text = "POST /example space/?a=b HTTP/1.1\r\nHost:example.com\r\nMy-Header: one\r\n  two\r\n\r\nbody\r\nline"
        let request = try RawHTTPRequest(parsing: Array(text.utf8))
        XCTAssertEqual(request.method, "POST")
        XCTAssertEqual(request.target, "/example space/?a=b")
        XCTAssertEqual(request.headers, [.init(name: "Host", value: "example.com"), .init(name: "My-Header", value: " one\n  two")])
        XCTAssertEqual(String(decoding: request.body, as: UTF8.self), "body\r\nline")
        XCTAssertEqual(try request.httpRequest().url, "https://example.com/example space/?a=b")
    }

    func testParses_requestWithoutBlankLine_asBodiless() throws {
        let request = try RawHTTPRequest(parsing: Array("GET / HTTP/1.1\nHost:example.com\n".utf8))
        XCTAssertEqual(request.headers.count, 1)
        XCTAssertEqual(request.body, [])
    }
}
