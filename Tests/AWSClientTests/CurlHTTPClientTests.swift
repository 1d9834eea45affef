import AWSClient
import LoopbackServer
import XCTest

final class CurlHTTPClientTests: XCTestCase {
    func testPost_sendsBodyAndHeaders_withoutExpectContinue() throws {
        let server = try LoopbackServer { request in
            let expect = request.header("expect") ?? "none"
            return .respond(status: 200, headers: [("X-Echo-Expect", expect), ("X-Method", request.method)],
                            body: request.body)
        }
        defer { server.stop() }
        let client = CurlHTTPClient()
        let body = [UInt8](repeating: 0x61, count: 200_000)  // large enough that curl would add Expect
        let response = try client.send(
            HTTPRequest(method: "POST", url: server.baseURL + "/x", headers: [("Content-Type", "text/plain")], body: body),
            operation: "Echo")
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.body, body)
        XCTAssertEqual(response.header("x-echo-expect"), "none")
        XCTAssertEqual(response.header("X-Method"), "POST")
    }

    func testRequests_reuseOneConnection() throws {
        let server = try LoopbackServer { _ in .respond(status: 200, headers: [], body: Array("ok".utf8)) }
        defer { server.stop() }
        let client = CurlHTTPClient()
        for _ in 0..<20 {
            let r = try client.send(HTTPRequest(method: "GET", url: server.baseURL + "/"), operation: "Get")
            XCTAssertEqual(r.bodyText, "ok")
        }
        XCTAssertEqual(server.requestCount, 20)
        XCTAssertEqual(server.connectionCount, 1, "keep-alive: one connection for all requests")
    }

    func testPutAndDelete_methodsArrive() throws {
        let server = try LoopbackServer { request in .respond(status: 200, headers: [], body: Array(request.method.utf8)) }
        defer { server.stop() }
        let client = CurlHTTPClient()
        XCTAssertEqual(try client.send(HTTPRequest(method: "PUT", url: server.baseURL + "/t"), operation: "Put").bodyText, "PUT")
        XCTAssertEqual(try client.send(HTTPRequest(method: "DELETE", url: server.baseURL + "/t"), operation: "Del").bodyText, "DELETE")
    }

    func testRequestGate_refusingBeforeTheSend_sendsNothing_andStopsARequestInFlight() throws {
        let server = try LoopbackServer { request in
            request.path == "/slow" ? .delay(3, then: .ok) : .respond(status: 200, headers: [], body: Array("ok".utf8))
        }
        defer { server.stop() }
        let client = CurlHTTPClient()
        let post = HTTPRequest(method: "POST", url: server.baseURL + "/fast", body: Array("{}".utf8))
        // An open gate changes nothing.
        XCTAssertEqual(try RequestGate.guarding({ true }) { () throws(HTTPError) in try client.send(post, operation: "BatchWriteItem") }.bodyText, "ok")
        XCTAssertEqual(server.requestCount, 1)
        // A closed one: the request never leaves, and the node is not to blame.
        XCTAssertThrowsError(try RequestGate.guarding({ false }) { () throws(HTTPError) in try client.send(post, operation: "BatchWriteItem") }) { error in
            XCTAssertEqual((error as? HTTPError)?.kind, .withheld)
            XCTAssertFalse(TargetNodes.isNodeFailure(.http(error as! HTTPError)))
        }
        XCTAssertEqual(server.requestCount, 1, "nothing reached the server")
        // A gate that closes while the answer is awaited stops the exchange.
        let closesAt = TargetNodes.monotonicNow() + 0.3
        let started = TargetNodes.monotonicNow()
        XCTAssertThrowsError(try RequestGate.guarding({ TargetNodes.monotonicNow() < closesAt }) { () throws(HTTPError) in
            try client.send(HTTPRequest(method: "POST", url: server.baseURL + "/slow", body: Array("{}".utf8)), operation: "BatchWriteItem")
        }) { error in XCTAssertEqual((error as? HTTPError)?.kind, .withheld) }
        XCTAssertLessThan(TargetNodes.monotonicNow() - started, 2, "not held until the 3 s answer")
        // Outside the gate, requests go as before.
        XCTAssertEqual(try client.send(post, operation: "BatchWriteItem").bodyText, "ok")
    }

    func testRefusedConnection_saysHostAndOperation() throws {
        // Bind a server to learn a free port, then stop it so nothing listens there.
        let server = try LoopbackServer { _ in .ok }
        let url = server.baseURL
        server.stop()
        let client = CurlHTTPClient(options: HTTPClientOptions(connectTimeout: 2, totalTimeout: 5))
        XCTAssertThrowsError(try client.send(HTTPRequest(method: "GET", url: url + "/a?secret=1"), operation: "DescribeTable")) { error in
            guard let e = error as? HTTPError else { return XCTFail("\(error)") }
            XCTAssertEqual(e.kind, .connect)
            XCTAssertEqual(e.operation, "DescribeTable")
            XCTAssertEqual(e.host, url.replacingOccurrences(of: "http://", with: ""))
            XCTAssertFalse("\(e)".contains("secret"), "the query string stays out of errors")
        }
    }

    func testSlowServer_timesOut() throws {
        let server = try LoopbackServer { _ in .delay(3, then: .ok) }
        defer { server.stop() }
        let client = CurlHTTPClient(options: HTTPClientOptions(connectTimeout: 1, totalTimeout: 0.3))
        XCTAssertThrowsError(try client.send(HTTPRequest(method: "GET", url: server.baseURL), operation: "GetRecords")) { error in
            XCTAssertEqual((error as? HTTPError)?.kind, .timeout, "\(error)")
        }
    }

    func testDroppedConnection_isAReset() throws {
        let server = try LoopbackServer { _ in .closeConnection }
        defer { server.stop() }
        XCTAssertThrowsError(try CurlHTTPClient().send(HTTPRequest(method: "GET", url: server.baseURL), operation: "Scan")) { error in
            XCTAssertEqual((error as? HTTPError)?.kind, .connectionReset, "\(error)")
        }
    }

    func testTruncatedResponse_isAReset() throws {
        let server = try LoopbackServer { _ in
            .respondPartial(status: 200, headers: [], body: Array("{\"Ite".utf8), declaredLength: 100)
        }
        defer { server.stop() }
        XCTAssertThrowsError(try CurlHTTPClient().send(HTTPRequest(method: "GET", url: server.baseURL), operation: "Scan")) { error in
            XCTAssertEqual((error as? HTTPError)?.kind, .connectionReset, "\(error)")
        }
    }

    func testStream_deliversChunks_andKeepsErrorBodies() throws {
        let big = (0..<1_000_000).map { UInt8(truncatingIfNeeded: $0) }
        let server = try LoopbackServer { request in
            request.path == "/missing"
                ? .respond(status: 404, headers: [], body: Array("<Error><Code>NoSuchKey</Code></Error>".utf8))
                : .respond(status: 200, headers: [], body: big)
        }
        defer { server.stop() }
        let client = CurlHTTPClient()
        var received: [UInt8] = []
        var chunks = 0
        let ok = try client.stream(HTTPRequest(method: "GET", url: server.baseURL + "/obj"), operation: "GetObject") { chunk in
            received.append(contentsOf: chunk)
            chunks += 1
        }
        XCTAssertEqual(ok.status, 200)
        XCTAssertEqual(received, big)
        XCTAssertGreaterThan(chunks, 1, "the body arrives in pieces, never whole")
        XCTAssertTrue(ok.body.isEmpty)

        var called = false
        let missing = try client.stream(HTTPRequest(method: "GET", url: server.baseURL + "/missing"), operation: "GetObject") { _ in
            called = true
        }
        XCTAssertEqual(missing.status, 404)
        XCTAssertFalse(called)
        XCTAssertTrue(missing.bodyText.contains("NoSuchKey"))
    }

    func testStream_abortsWhenConsumerThrows() throws {
        struct Stop: Error {}
        let server = try LoopbackServer { _ in .respond(status: 200, headers: [], body: [UInt8](repeating: 1, count: 500_000)) }
        defer { server.stop() }
        XCTAssertThrowsError(try CurlHTTPClient().stream(HTTPRequest(method: "GET", url: server.baseURL), operation: "GetObject") { _ in
            throw Stop()
        }) { error in
            XCTAssertEqual((error as? HTTPError)?.kind, .other)
        }
    }

    func testTLSVerification_isOnByDefault() {
        XCTAssertTrue(HTTPClientOptions().verifyTLS)
        XCTAssertNil(HTTPClientOptions().caBundlePath)
    }

    func testConcurrentCallers_shareOneClientSafely() throws {
        let server = try LoopbackServer { request in .respond(status: 200, headers: [], body: request.body) }
        defer { server.stop() }
        let client = CurlHTTPClient()
        DispatchQueue.concurrentPerform(iterations: 8) { i in
            for j in 0..<25 {
                let payload = Array("\(i)-\(j)".utf8)
                let r = try? client.send(HTTPRequest(method: "POST", url: server.baseURL, body: payload), operation: "Echo")
                XCTAssertEqual(r?.body, payload)
            }
        }
        XCTAssertEqual(server.requestCount, 200)
    }
}
