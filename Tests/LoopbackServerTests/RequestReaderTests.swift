@testable import LoopbackServer
import XCTest

/// The parser alone, fed from memory: no sockets, no threads.
final class RequestReaderTests: XCTestCase {
    /// A reader over `text`, handing out at most `step` bytes per receive.
    private func reader(_ text: String, step: Int = .max, limits: LoopbackServer.Limits = .init()) -> RequestReader {
        let bytes = Array(text.utf8)
        var offset = 0
        return RequestReader(limits: limits) { buffer in
            let count = min(step, buffer.count, bytes.count - offset)
            guard count > 0 else { return 0 }
            buffer.copyBytes(from: bytes[offset..<(offset + count)])
            offset += count
            return count
        }
    }

    private func rejection(_ text: String, limits: LoopbackServer.Limits = .init()) -> Int? {
        var reader = reader(text, limits: limits)
        do {
            let head = try reader.readHead()
            _ = try reader.readBody(for: head)
            return nil
        } catch {
            if case .rejected(let status, _) = error { return status }
            return nil
        }
    }

    func testReadHead_fedOneByteAtATime_parsesTheSameRequest() throws {
        let text = "POST /a?b HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabcGET / HTTP/1.1\r\n\r\n"
        var whole = reader(text)
        var trickle = reader(text, step: 1)
        for _ in 0..<2 {
            let expected = try whole.readHead()
            XCTAssertEqual(try trickle.readHead(), expected)
            XCTAssertEqual(try trickle.readBody(for: expected), try whole.readBody(for: expected))
        }
        XCTAssertThrowsError(try trickle.readHead()) { XCTAssertEqual($0 as? ReadFailure, .closed) }
    }

    func testReadHead_acceptsBareLineFeedsAndLeadingEmptyLines() throws {
        var reader = reader("\r\nGET / HTTP/1.1\nHost:   spaced  \n\n")
        let head = try reader.readHead()
        XCTAssertEqual(head.target, "/")
        XCTAssertEqual(head.headers, [.init(name: "Host", value: "spaced")])
        XCTAssertEqual(head.framing, .none)
        XCTAssertTrue(head.keepAlive)
    }

    func testReadHead_framingAndConnectionRules() throws {
        var both = reader("POST / HTTP/1.1\r\nContent-Length: 4\r\nTransfer-Encoding: gzip, chunked\r\n\r\n")
        let smuggled = try both.readHead()
        XCTAssertEqual(smuggled.framing, .chunked)
        XCTAssertFalse(smuggled.keepAlive)

        var old = reader("GET / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n")
        let head = try old.readHead()
        XCTAssertFalse(head.keepAlive)
        XCTAssertFalse(head.expectsContinue)

        var repeated = reader("POST / HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok")
        XCTAssertEqual(try repeated.readHead().framing, .length(2))
    }

    func testRejections_carryTheRightStatus() {
        XCTAssertEqual(rejection("GET /\r\n\r\n"), 400)
        XCTAssertEqual(rejection("GET / HTTP/1.1 extra\r\n\r\n"), 400)
        XCTAssertEqual(rejection("G(T / HTTP/1.1\r\n\r\n"), 400)
        XCTAssertEqual(rejection("GET / HTTP/1.1\r\nNo colon\r\n\r\n"), 400)
        XCTAssertEqual(rejection("GET / HTTP/1.1\r\nBad Name: v\r\n\r\n"), 400)
        XCTAssertEqual(rejection("GET / HTTP/1.1\r\nA: b\r\n folded\r\n\r\n"), 400)
        XCTAssertEqual(rejection("GET / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n"), 400)
        XCTAssertEqual(rejection("GET / HTTP/3\r\n\r\n"), 505)
        XCTAssertEqual(rejection("GET / FTP/1.0\r\n\r\n"), 400)
        XCTAssertEqual(rejection("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n0\r\n\r\n"), 400)
        XCTAssertEqual(
            rejection("GET / HTTP/1.1\r\nX: \(String(repeating: "a", count: 200))\r\n\r\n", limits: .init(maxHeaderBytes: 100)),
            431)
        XCTAssertEqual(
            rejection("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n12345678\r\n8\r\n12345678\r\n0\r\n\r\n",
                      limits: .init(maxBodyBytes: 10)),
            413)
        XCTAssertNil(rejection("GET / HTTP/1.1\r\n\r\n"))
    }

    func testServerRequest_splitsAbsoluteFormTargets() {
        let request = ServerRequest(method: "GET", target: "http://169.254.169.254/latest/api/token?x=1")
        XCTAssertEqual(request.path, "/latest/api/token")
        XCTAssertEqual(request.query, "x=1")
        XCTAssertEqual(ServerRequest(method: "GET", target: "http://host").path, "/")
        XCTAssertEqual(ServerRequest(method: "GET", target: "/a?").query, "")
    }
}
