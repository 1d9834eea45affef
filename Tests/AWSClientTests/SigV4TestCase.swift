import Foundation
@testable import AWSClient

/// One case folder of the AWS SigV4 test suite (see Fixtures/sigv4/SOURCE.md).
struct SigV4TestCase {
    struct Context: Decodable {
        struct CredentialsJSON: Decodable {
            var access_key_id: String
            var secret_access_key: String
            var token: String?
        }
        var credentials: CredentialsJSON
        var region: String
        var service: String
        var timestamp: String
        var normalize: Bool
        var sign_body: Bool
        var omit_session_token: Bool?
    }

    var name: String
    var context: Context
    var request: RawHTTPRequest
    var expectedCanonicalRequest: String
    var expectedStringToSign: String
    var expectedSignature: String
    var expectedSignedRequest: RawHTTPRequest

    var credentials: Credentials {
        Credentials(accessKeyId: context.credentials.access_key_id,
                    secretAccessKey: context.credentials.secret_access_key,
                    sessionToken: context.credentials.token)
    }

    var options: SigV4Signer.Options {
        SigV4Signer.Options(normalizePath: context.normalize, doubleURIEncode: context.service != "s3",
                            signBody: context.sign_body, signSessionToken: !(context.omit_session_token ?? false))
    }

    var signingDate: Date {
        get throws {
            guard let date = ISO8601DateFormatter().date(from: context.timestamp) else {
                throw FixtureError("\(name): bad timestamp \(context.timestamp)")
            }
            return date
        }
    }

    /// The folder holding every case.
    static var suiteDirectory: URL {
        get throws {
            guard let fixtures = Bundle.module.url(forResource: "Fixtures", withExtension: nil) else {
                throw FixtureError("Fixtures folder missing from the test bundle")
            }
            return fixtures.appendingPathComponent("sigv4")
        }
    }

    /// Every case, sorted by name.
    static func loadAll() throws -> [SigV4TestCase] {
        let directory = try suiteDirectory
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { name in
                var isDirectory: ObjCBool = false
                return FileManager.default.fileExists(atPath: directory.appendingPathComponent(name).path, isDirectory: &isDirectory)
                    && isDirectory.boolValue
            }
            .sorted()
        return try names.map { try load(directory.appendingPathComponent($0)) }
    }

    static func load(_ folder: URL) throws -> SigV4TestCase {
        func bytes(_ file: String) throws -> [UInt8] {
            [UInt8](try Data(contentsOf: folder.appendingPathComponent(file)))
        }
        func text(_ file: String) throws -> String { String(decoding: try bytes(file), as: UTF8.self) }
        let name = folder.lastPathComponent
        return SigV4TestCase(
            name: name,
            context: try JSONDecoder().decode(Context.self, from: Data(try bytes("context.json"))),
            request: try RawHTTPRequest(parsing: try bytes("request.txt")),
            expectedCanonicalRequest: try text("header-canonical-request.txt"),
            expectedStringToSign: try text("header-string-to-sign.txt"),
            expectedSignature: try text("header-signature.txt").trimmingCharacters(in: .whitespacesAndNewlines),
            expectedSignedRequest: try RawHTTPRequest(parsing: try bytes("header-signed-request.txt")))
    }
}

/// A raw HTTP/1.1 request as the test suite writes it: request line,
/// header lines (a line starting with a space or tab continues the previous
/// header's value), a blank line, the body. Lines end in LF or CRLF.
struct RawHTTPRequest: Equatable {
    var method: String
    /// The request target exactly as written, spaces and UTF-8 included.
    var target: String
    var headers: [Header]
    var body: [UInt8]

    struct Header: Equatable {
        var name: String
        /// The raw value; the lines of a folded value are joined with "\n".
        var value: String
    }

    init(parsing bytes: [UInt8]) throws {
        let (head, body) = Self.splitHeadAndBody(bytes)
        // Split bytes, not Characters: Swift treats CR LF as one Character.
        var lines = head.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
            .map { String(decoding: $0.last == UInt8(ascii: "\r") ? $0.dropLast() : $0, as: UTF8.self)[...] }
        while lines.last?.isEmpty == true { lines.removeLast() }
        guard let requestLine = lines.first,
              let firstSpace = requestLine.firstIndex(of: " "),
              let lastSpace = requestLine.lastIndex(of: " "), firstSpace < lastSpace else {
            throw FixtureError("bad request line")
        }
        method = String(requestLine[..<firstSpace])
        target = String(requestLine[requestLine.index(after: firstSpace)..<lastSpace])

        headers = []
        for line in lines.dropFirst() {
            if line.first == " " || line.first == "\t" {
                guard !headers.isEmpty else { throw FixtureError("continuation line before any header") }
                headers[headers.count - 1].value += "\n" + line
                continue
            }
            guard let colon = line.firstIndex(of: ":") else { throw FixtureError("header line without a colon: \(line)") }
            headers.append(Header(name: String(line[..<colon]), value: String(line[line.index(after: colon)...])))
        }
        self.body = body
    }

    /// Splits at the first empty line (LF LF or CRLF CRLF).
    private static func splitHeadAndBody(_ bytes: [UInt8]) -> ([UInt8], [UInt8]) {
        let lf = UInt8(ascii: "\n"), cr = UInt8(ascii: "\r")
        var index = 0
        while index < bytes.count {
            if bytes[index] == lf {
                var next = index + 1
                if next < bytes.count, bytes[next] == cr { next += 1 }
                if next < bytes.count, bytes[next] == lf {
                    return (Array(bytes[..<index]), Array(bytes[(next + 1)...]))
                }
            }
            index += 1
        }
        return (bytes, [])
    }

    /// The request as Ferry's HTTP layer carries it, on `https://` + the Host header.
    func httpRequest() throws -> HTTPRequest {
        guard let host = headers.first(where: { $0.name.lowercased() == "host" })?.value else {
            throw FixtureError("request without a Host header")
        }
        return HTTPRequest(method: method, url: "https://\(host)\(target)",
                           headers: headers.map { ($0.name, $0.value) }, body: body)
    }
}

struct FixtureError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
