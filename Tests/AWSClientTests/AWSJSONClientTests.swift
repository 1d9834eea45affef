@testable import AWSClient
import DynamoModel
import Synchronization
import XCTest

final class AWSJSONClientTests: XCTestCase {
    private func client(_ transport: FakeHTTPTransport, attempts: Int = 5) -> AWSJSONClient {
        let env = RetryEnvironment(now: { 0 }, sleep: { _ in true }, random: { 0.5 })
        return AWSJSONClient(endpoint: Endpoint(url: "https://dynamodb.us-east-1.amazonaws.com", region: "us-east-1",
                                                service: .dynamodb, isCustom: false),
                             targetPrefix: "DynamoDB_20120810",
                             credentials: StaticCredentialProvider(accessKeyId: "AKID", secretAccessKey: "secret"),
                             transport: transport,
                             retry: RetryPolicy(maxAttempts: attempts, budget: nil, environment: env))
    }

    func testRequest_carriesTargetContentTypeAndSignature() throws {
        let transport = FakeHTTPTransport { _ in HTTPResponse(status: 200, body: Array("{}".utf8)) }
        _ = try client(transport).call("Scan", body: Array("{\"TableName\":\"t\"}".utf8))
        let request = try XCTUnwrap(transport.requests.first)
        XCTAssertEqual(request.method, "POST")
        XCTAssertEqual(request.url, "https://dynamodb.us-east-1.amazonaws.com/")
        XCTAssertEqual(request.header("X-Amz-Target"), "DynamoDB_20120810.Scan")
        XCTAssertEqual(request.header("Content-Type"), "application/x-amz-json-1.0")
        let auth = try XCTUnwrap(request.header("Authorization"))
        XCTAssertTrue(auth.hasPrefix("AWS4-HMAC-SHA256 Credential=AKID/"), auth)
        XCTAssertTrue(auth.contains("/us-east-1/dynamodb/aws4_request"), auth)
        XCTAssertTrue(auth.contains("x-amz-target"), auth)
    }

    func testThrottling_isRetried_thenSucceeds() throws {
        let calls = Mutex(0)
        let transport = FakeHTTPTransport { _ in
            let n = calls.withLock { $0 += 1; return $0 }
            if n < 3 {
                return HTTPResponse(status: 400, body: Array(#"{"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException","message":"slow down"}"#.utf8))
            }
            return HTTPResponse(status: 200, body: Array("{\"ok\":1}".utf8))
        }
        XCTAssertEqual(try client(transport).call("PutItem", body: []), Array("{\"ok\":1}".utf8))
        XCTAssertEqual(calls.withLock { $0 }, 3)
    }

    func testValidationError_isNotRetried_andDecoded() {
        let transport = FakeHTTPTransport { _ in
            HTTPResponse(status: 400, body: Array(#"{"__type":"com.amazon.coral.validate#ValidationException","Message":"Item size has exceeded the maximum allowed size"}"#.utf8))
        }
        XCTAssertThrowsError(try client(transport).call("PutItem", body: [])) { error in
            guard let e = (error as? AWSClientError)?.serviceError else { return XCTFail("\(error)") }
            XCTAssertEqual(e.code, "ValidationException")
            XCTAssertEqual(e.message, "Item size has exceeded the maximum allowed size")
            XCTAssertEqual(e.status, 400)
            XCTAssertEqual(e.operation, "PutItem")
            XCTAssertEqual(e.host, "dynamodb.us-east-1.amazonaws.com")
        }
        XCTAssertEqual(transport.requests.count, 1)
    }

    func testServerErrors_areTransient_evenAsHTMLPages() {
        let transport = FakeHTTPTransport { _ in
            HTTPResponse(status: 503, body: Array("<html><body><h1>Service Unavailable</h1></body></html>".utf8))
        }
        XCTAssertThrowsError(try client(transport, attempts: 3).call("GetRecords", body: [])) { error in
            guard let e = error as? AWSClientError else { return XCTFail("\(error)") }
            XCTAssertEqual(e.retryClass, .transient)
            XCTAssertEqual(e.serviceError?.code, "HTTP503")
            XCTAssertEqual(e.serviceError?.message, "Service Unavailable")
        }
        XCTAssertEqual(transport.requests.count, 3)
    }

    func testErrorTypeHeader_isUsedWhenTheBodyHasNoType() {
        let transport = FakeHTTPTransport { _ in
            HTTPResponse(status: 400, headers: ["x-amzn-errortype": "AccessDeniedException:http://internal.amazon.com/"],
                         body: Array("{\"message\":\"no\"}".utf8))
        }
        XCTAssertThrowsError(try client(transport).call("DescribeTable", body: [])) { error in
            XCTAssertEqual((error as? AWSClientError)?.serviceError?.code, "AccessDeniedException")
            XCTAssertTrue("\(error)".contains("IAM policy"), "\(error)")
        }
    }

    func testConnectionReset_isRetried() throws {
        let calls = Mutex(0)
        let transport = FakeHTTPTransport { request throws(HTTPError) in
            if calls.withLock({ $0 += 1; return $0 }) == 1 {
                throw HTTPError(kind: .connectionReset, host: "h", operation: "BatchWriteItem", detail: "reset")
            }
            return HTTPResponse(status: 200, body: Array("{}".utf8))
        }
        _ = try client(transport).call("BatchWriteItem", body: [])
        XCTAssertEqual(transport.requests.count, 2)
    }

    func testUnprocessedItems_comeBackAsRawWrites() throws {
        let body = #"{"UnprocessedItems":{"t":[{"PutRequest":{"Item":{"pk":{"S":"a"}}}},{"DeleteRequest":{"Key":{"pk":{"S":"b"}}}}]}}"#
        let transport = FakeHTTPTransport { _ in HTTPResponse(status: 200, body: Array(body.utf8)) }
        let db = DynamoDBClient(json: client(transport))
        let left = try db.batchWriteItem(table: "t", writes: [.put(item: Array(#"{"pk":{"S":"a"}}"#.utf8)[...])])
        XCTAssertEqual(left.count, 2)
        guard case .put(let item) = left[0], case .delete(let key) = left[1] else { return XCTFail("\(left)") }
        XCTAssertEqual(String(decoding: item, as: UTF8.self), #"{"pk":{"S":"a"}}"#)
        XCTAssertEqual(String(decoding: key, as: UTF8.self), #"{"pk":{"S":"b"}}"#)
    }

    func testBatchWriteBody_copiesRawItemsVerbatim() throws {
        let item = Array(#"{"pk":{"S":"x"},"n":{"N":"1.50"}}"#.utf8)
        let body = DynamoDBClient.batchWriteBody(table: "tbl", writes: [.put(item: item[...]), .delete(key: Array(#"{"pk":{"S":"y"}}"#.utf8)[...])])
        XCTAssertEqual(String(decoding: body, as: UTF8.self),
                       #"{"RequestItems":{"tbl":[{"PutRequest":{"Item":{"pk":{"S":"x"},"n":{"N":"1.50"}}}},{"DeleteRequest":{"Key":{"pk":{"S":"y"}}}}]}}"#)
    }

    func testXMLScanner_readsS3Errors_andUnescapes() {
        let xml = XMLScanner(Array("<Error><Code>NoSuchKey</Code><Message>a &amp; b &lt;c&gt; &#39;d&#x27;</Message></Error>".utf8))
        XCTAssertEqual(xml.first("Code"), "NoSuchKey")
        XCTAssertEqual(xml.first("Message"), "a & b <c> 'd'")
        XCTAssertNil(xml.first("Missing"))
    }
}
