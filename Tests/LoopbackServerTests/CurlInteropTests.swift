import Foundation
import LoopbackServer
import XCTest

/// Checks against the curl command line tool, which runs the same libcurl
/// that Ferry's client uses. Skipped where curl is not installed.
final class CurlInteropTests: XCTestCase {
    private func curl(_ arguments: [String], input: [UInt8]? = nil) throws -> (status: Int32, output: String) {
        let path = "/usr/bin/curl"
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: path), "curl is not installed")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = ["--silent", "--show-error", "--max-time", "10"] + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        let input = input.map { bytes -> Pipe in
            let pipe = Pipe()
            process.standardInput = pipe
            DispatchQueue.global().async {
                pipe.fileHandleForWriting.write(Data(bytes))
                try? pipe.fileHandleForWriting.close()
            }
            return pipe
        }
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        _ = input
        return (process.terminationStatus, text)
    }

    func testCurl_reusesOneConnectionForSeveralRequests() throws {
        let server = try LoopbackServer { request in .text(200, request.path + "\n") }
        defer { server.stop() }
        let result = try curl(["\(server.baseURL)/a", "\(server.baseURL)/b", "\(server.baseURL)/c"])
        XCTAssertEqual(result.status, 0, result.output)
        XCTAssertEqual(result.output, "/a\n/b\n/c\n")
        XCTAssertEqual(server.connectionCount, 1)
    }

    func testCurl_largeUploadWithExpectContinue_doesNotWaitForTheExpectTimeout() throws {
        let server = try LoopbackServer { request in .text(200, "\(request.body.count)") }
        defer { server.stop() }
        let body = [UInt8](repeating: UInt8(ascii: "x"), count: 3 << 20)
        let started = Date()
        let result = try curl(
            ["--expect100-timeout", "5", "-H", "Expect: 100-continue", "--data-binary", "@-", "\(server.baseURL)/up"],
            input: body)
        XCTAssertEqual(result.status, 0, result.output)
        XCTAssertEqual(result.output, "\(body.count)")
        XCTAssertLessThan(Date().timeIntervalSince(started), 4)
    }

    func testCurl_chunkedUpload_isDecoded() throws {
        let server = try LoopbackServer { request in .text(200, request.bodyText) }
        defer { server.stop() }
        let result = try curl(
            ["-H", "Transfer-Encoding: chunked", "--data-binary", "@-", "\(server.baseURL)/up"],
            input: Array("streamed body".utf8))
        XCTAssertEqual(result.status, 0, result.output)
        XCTAssertEqual(result.output, "streamed body")
    }

    func testCurl_reportsCloseConnectionAsEmptyReply() throws {
        let server = try LoopbackServer { _ in .closeConnection }
        defer { server.stop() }
        XCTAssertEqual(try curl([server.baseURL]).status, 52)  // CURLE_GOT_NOTHING
    }

    func testCurl_reportsResetConnectionAsReceiveError() throws {
        let server = try LoopbackServer { _ in .resetConnection }
        defer { server.stop() }
        XCTAssertEqual(try curl([server.baseURL]).status, 56)  // CURLE_RECV_ERROR
    }

    func testCurl_reportsTruncatedResponseAsPartialFile() throws {
        let server = try LoopbackServer { _ in .respondPartial(status: 200, body: Array("abc".utf8), declaredLength: 10) }
        defer { server.stop() }
        XCTAssertEqual(try curl([server.baseURL]).status, 18)  // CURLE_PARTIAL_FILE
    }
}
