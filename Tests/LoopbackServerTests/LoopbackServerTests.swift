import Dispatch
import Glibc
import LoopbackServer
import Synchronization
import XCTest

/// Collects what the handler saw, across connection threads.
final class Recorder: Sendable {
    private let requests = Mutex<[ServerRequest]>([])
    func record(_ request: ServerRequest) { requests.withLock { $0.append(request) } }
    var all: [ServerRequest] { requests.withLock { $0 } }
}

final class LoopbackServerTests: XCTestCase {
    private func makeServer(
        _ handler: @escaping @Sendable (ServerRequest) -> ServerAction = { _ in .text(200, "hello") }
    ) throws -> LoopbackServer {
        let server = try LoopbackServer(handler: handler)
        addTeardownBlock { server.stop() }
        return server
    }

    // MARK: - Basics

    func testInit_withPortZero_listensOnAnEphemeralLoopbackPort() throws {
        let server = try makeServer()
        XCTAssertGreaterThan(server.port, 0)
        XCTAssertEqual(server.baseURL, "http://127.0.0.1:\(server.port)")
        XCTAssertTrue(isListening(port: server.port))
    }

    func testGet_passesMethodPathQueryAndHeadersToHandler() throws {
        let recorder = Recorder()
        let server = try makeServer { request in
            recorder.record(request)
            return .json(200, #"{"ok":true}"#, headers: [(name: "X-Amz-Request-Id", value: "r1")])
        }
        let client = try RawClient(port: server.port)
        let response = try client.request(
            "GET /latest/meta-data?x=1&y=2 HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Aws-Ec2-Metadata-Token: abc\r\nX-Aws-EC2-metadata-token: def\r\n\r\n")

        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.bodyText, #"{"ok":true}"#)
        XCTAssertEqual(response.headers["content-type"], "application/json")
        XCTAssertEqual(response.headers["x-amz-request-id"], "r1")
        let request = try XCTUnwrap(recorder.all.first)
        XCTAssertEqual(request.method, "GET")
        XCTAssertEqual(request.target, "/latest/meta-data?x=1&y=2")
        XCTAssertEqual(request.path, "/latest/meta-data")
        XCTAssertEqual(request.query, "x=1&y=2")
        XCTAssertEqual(request.version, "HTTP/1.1")
        XCTAssertEqual(request.header("X-AWS-EC2-METADATA-TOKEN"), "abc, def")
        XCTAssertEqual(request.headers["host"], "127.0.0.1")
        XCTAssertEqual(request.headerList.map(\.name), ["Host", "X-Aws-Ec2-Metadata-Token", "X-Aws-EC2-metadata-token"])
        XCTAssertEqual(request.body, [])
        XCTAssertEqual(server.requestCount, 1)
    }

    func testPost_withContentLength_deliversBody() throws {
        let server = try makeServer { request in
            .respond(status: 201, headers: [(name: "Content-Type", value: "application/x-amz-json-1.0")],
                     body: Array(request.body.reversed()))
        }
        let client = try RawClient(port: server.port)
        let response = try client.request(
            "POST /items HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-amz-json-1.0\r\ncontent-length: 5\r\n\r\nabcde")

        XCTAssertEqual(response.status, 201)
        XCTAssertEqual(response.bodyText, "edcba")
        XCTAssertEqual(response.headers["content-length"], "5")
    }

    func testHead_announcesLengthButSendsNoBody() throws {
        let server = try makeServer { _ in .text(200, "twelve bytes") }
        let client = try RawClient(port: server.port)
        client.send("HEAD / HTTP/1.1\r\nHost: x\r\n\r\n")
        let response = try client.readResponse(expectBody: false)
        XCTAssertEqual(response.headers["content-length"], "12")
        // The connection stays usable, so no stray body bytes were sent.
        XCTAssertEqual(try client.request("GET / HTTP/1.1\r\nHost: x\r\n\r\n").bodyText, "twelve bytes")
    }

    // MARK: - Connection reuse

    func testKeepAlive_twoRequestsOnOneConnection_useOneConnection() throws {
        let recorder = Recorder()
        let server = try makeServer { request in
            recorder.record(request)
            return .text(200, "n\(request.indexOnConnection)")
        }
        let client = try RawClient(port: server.port)
        let first = try client.request("GET /a HTTP/1.1\r\nHost: x\r\n\r\n")
        let second = try client.request("POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi")

        XCTAssertEqual([first.bodyText, second.bodyText], ["n1", "n2"])
        XCTAssertNil(first.headers["connection"])
        XCTAssertEqual(server.connectionCount, 1)
        XCTAssertEqual(server.requestCount, 2)
        XCTAssertEqual(recorder.all.map(\.connectionID), [1, 1])
        XCTAssertEqual(recorder.all.map(\.sequence), [1, 2])
    }

    func testPipelinedRequests_areAnsweredInOrder() throws {
        let server = try makeServer { request in .text(200, request.path) }
        let client = try RawClient(port: server.port)
        client.send("GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\nGET /3 HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertEqual(try (0..<3).map { _ in try client.readResponse().bodyText }, ["/1", "/2", "/3"])
    }

    func testConnectionCloseRequestHeader_closesAfterResponse() throws {
        let server = try makeServer()
        let client = try RawClient(port: server.port)
        let response = try client.request("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        XCTAssertEqual(response.headers["connection"], "close")
        XCTAssertEqual(client.waitForEnd().ending, .eof)
    }

    func testHandlerConnectionCloseHeader_closesAfterResponse() throws {
        let server = try makeServer { _ in .respond(status: 503, headers: [(name: "Connection", value: "close")]) }
        let client = try RawClient(port: server.port)
        let response = try client.request("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertEqual(response.status, 503)
        XCTAssertEqual(response.headers["connection"], "close")
        XCTAssertEqual(client.waitForEnd().ending, .eof)
    }

    func testHTTP10_closesUnlessKeepAliveRequested() throws {
        let server = try makeServer()
        let plain = try RawClient(port: server.port)
        _ = try plain.request("GET / HTTP/1.0\r\n\r\n")
        XCTAssertEqual(plain.waitForEnd().ending, .eof)

        let keepAlive = try RawClient(port: server.port)
        let response = try keepAlive.request("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        XCTAssertEqual(response.headers["connection"], "keep-alive")
        XCTAssertEqual(try keepAlive.request("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").status, 200)
    }

    // MARK: - Request bodies

    func testChunkedRequestBody_isDecoded() throws {
        let recorder = Recorder()
        let server = try makeServer { request in
            recorder.record(request)
            return .text(200, "\(request.body.count)")
        }
        let client = try RawClient(port: server.port)
        let response = try client.request(
            "POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "5\r\nhello\r\n" + "1;name=value\r\n \r\n" + "A\r\n0123456789\r\n" + "0\r\nX-Trailer: t\r\n\r\n")

        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(recorder.all.first?.bodyText, "hello 0123456789")
        // The connection is still in sync after the trailer.
        XCTAssertEqual(try client.request("GET / HTTP/1.1\r\nHost: x\r\n\r\n").status, 200)
    }

    func testExpect100Continue_sendsInterimResponseBeforeTheBody() throws {
        let server = try makeServer { request in .text(200, request.bodyText) }
        let client = try RawClient(port: server.port)
        client.send("PUT /x HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-Continue\r\n\r\n")
        let interim = try client.readResponse()
        XCTAssertEqual(interim.status, 100)
        client.send("body")
        let final = try client.readResponse()
        XCTAssertEqual(final.status, 200)
        XCTAssertEqual(final.bodyText, "body")
    }

    // MARK: - Fault actions

    func testCloseConnection_clientReadsEOFWithoutAResponse() throws {
        let server = try makeServer { _ in .closeConnection }
        let client = try RawClient(port: server.port)
        client.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        let end = client.waitForEnd()
        XCTAssertEqual(end.ending, .eof)
        XCTAssertEqual(end.received, [])
    }

    func testResetConnection_clientSeesReset() throws {
        let server = try makeServer { _ in .resetConnection }
        let client = try RawClient(port: server.port)
        client.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertEqual(client.waitForEnd().ending, .reset)
    }

    func testRespondPartial_announcesMoreThanItSendsThenCloses() throws {
        let server = try makeServer { _ in
            .respondPartial(status: 200, body: Array(#"{"Items":["#.utf8), declaredLength: 100)
        }
        let client = try RawClient(port: server.port)
        client.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertThrowsError(try client.readResponse()) { error in
            XCTAssertEqual(error as? RawClient.Failure, .eof(received: 10))
        }
    }

    func testDelay_thenRespond_answersAfterTheDelay() throws {
        let server = try makeServer { _ in .delay(0.2, then: .text(200, "late")) }
        let client = try RawClient(port: server.port)
        let started = DispatchTime.now()
        let response = try client.request("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1e9
        XCTAssertEqual(response.bodyText, "late")
        XCTAssertGreaterThanOrEqual(elapsed, 0.19)
    }

    // MARK: - Malformed input

    func testMalformedRequestLine_gets400AndTheConnectionCloses() throws {
        let server = try makeServer()
        let client = try RawClient(port: server.port)
        let response = try client.request("NOT A VALID REQUEST LINE\r\n\r\n")
        XCTAssertEqual(response.status, 400)
        XCTAssertEqual(response.headers["connection"], "close")
        XCTAssertEqual(client.waitForEnd().ending, .eof)
        XCTAssertEqual(server.requestCount, 0)
    }

    func testInvalidContentLength_gets400() throws {
        let server = try makeServer()
        for length in ["-1", "abc", "5, 6", "1e3"] {
            let client = try RawClient(port: server.port)
            let response = try client.request("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: \(length)\r\n\r\n")
            XCTAssertEqual(response.status, 400, "Content-Length: \(length)")
        }
    }

    func testBadChunkSize_gets400() throws {
        let server = try makeServer()
        let client = try RawClient(port: server.port)
        let response = try client.request(
            "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n")
        XCTAssertEqual(response.status, 400)
    }

    func testUnsupportedVersion_gets505() throws {
        let server = try makeServer()
        let client = try RawClient(port: server.port)
        XCTAssertEqual(try client.request("GET / HTTP/2.0\r\n\r\n").status, 505)
    }

    func testBodyOverTheLimit_gets413() throws {
        let server = try LoopbackServer(limits: .init(maxBodyBytes: 10)) { _ in .ok }
        defer { server.stop() }
        let client = try RawClient(port: server.port)
        XCTAssertEqual(try client.request("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\n").status, 413)
    }

    func testClientVanishingMidRequest_doesNotDisturbTheServer() throws {
        let server = try makeServer()
        do {
            let client = try RawClient(port: server.port)
            client.send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly part")
        }
        let client = try RawClient(port: server.port)
        XCTAssertEqual(try client.request("GET / HTTP/1.1\r\nHost: x\r\n\r\n").status, 200)
    }

    // MARK: - Stop

    func testStop_releasesThePort() throws {
        let server = try LoopbackServer { _ in .ok }
        let port = server.port
        let client = try RawClient(port: port)
        _ = try client.request("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        server.stop()

        XCTAssertFalse(isListening(port: port))
        XCTAssertEqual(client.waitForEnd().ending, .eof)
        let again = try LoopbackServer(port: port) { _ in .ok }
        defer { again.stop() }
        XCTAssertEqual(again.port, port)
    }

    func testStop_withIdleAndBusyConnections_returnsPromptly() throws {
        let server = try LoopbackServer { _ in .delay(30, then: .ok) }
        let idle = try RawClient(port: server.port)
        let busy = try RawClient(port: server.port)
        busy.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        let partial = try RawClient(port: server.port)
        partial.send("POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc")
        while server.requestCount < 1 || server.openConnectionCount < 3 { usleep(1000) }

        let started = DispatchTime.now()
        server.stop()
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1e9
        XCTAssertLessThan(elapsed, 2)
        XCTAssertEqual(server.openConnectionCount, 0)
        for client in [idle, busy, partial] {
            XCTAssertNotEqual(client.waitForEnd().ending, .timeout)
        }
        server.stop()  // a second stop is harmless
    }

    func testDroppingTheLastReference_stopsTheServer() throws {
        var server: LoopbackServer? = try LoopbackServer { _ in .ok }
        let port = server!.port
        server = nil
        XCTAssertFalse(isListening(port: port))
    }

    // MARK: - Load

    func testManyRequests_onSeveralKeepAliveConnections_areAllAnswered() throws {
        let server = try makeServer { request in .respond(status: 200, body: request.body) }
        let connections = 4
        let perConnection = 500
        let failures = Mutex(0)
        DispatchQueue.concurrentPerform(iterations: connections) { _ in
            do {
                let client = try RawClient(port: server.port)
                for index in 0..<perConnection {
                    let body = "item-\(index)"
                    let response = try client.request(
                        "POST /put HTTP/1.1\r\nHost: x\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
                    if response.bodyText != body { failures.withLock { $0 += 1 } }
                }
            } catch {
                failures.withLock { $0 += 1 }
            }
        }
        XCTAssertEqual(failures.withLock { $0 }, 0)
        XCTAssertEqual(server.requestCount, connections * perConnection)
        XCTAssertEqual(server.connectionCount, connections)
    }
}
