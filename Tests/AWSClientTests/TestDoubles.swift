import Foundation
import Synchronization
@testable import AWSClient

/// An `HTTPTransport` that answers from a closure and records every request.
final class FakeHTTPTransport: HTTPTransport {
    typealias Handler = @Sendable (HTTPRequest) throws(HTTPError) -> HTTPResponse
    private let handler: Handler
    private let recorded = Mutex<[HTTPRequest]>([])

    init(_ handler: @escaping Handler) { self.handler = handler }

    func send(_ request: HTTPRequest, operation: String) throws(HTTPError) -> HTTPResponse {
        recorded.withLock { $0.append(request) }
        return try handler(request)
    }

    var requests: [HTTPRequest] { recorded.withLock { $0 } }

    /// "METHOD path" of each request, for order checks.
    var requestLines: [String] { requests.map { "\($0.method) \(SigV4URLParts($0.url).path)" } }

    /// A transport for which every request fails to connect, as off EC2.
    static func unreachable() -> FakeHTTPTransport {
        FakeHTTPTransport { request throws(HTTPError) in
            throw HTTPError(kind: .connect, host: SigV4URLParts(request.url).hostHeader, operation: "test", detail: "connection refused")
        }
    }

    /// A transport that must not be used.
    static func unused() -> FakeHTTPTransport {
        FakeHTTPTransport { request throws(HTTPError) in
            throw HTTPError(kind: .other, host: "", operation: "test", detail: "unexpected request \(request.method) \(request.url)")
        }
    }
}

/// A clock that moves only when told to.
final class TestClock: Sendable {
    private let current: Mutex<Date>
    init(_ start: Date = Date(timeIntervalSince1970: 1_700_000_000)) { current = Mutex(start) }
    var now: Date { current.withLock { $0 } }
    func advance(_ seconds: TimeInterval) { current.withLock { $0 = $0.addingTimeInterval(seconds) } }
    var closure: @Sendable () -> Date { { [self] in self.now } }
}

/// A provider with a fixed answer that counts its calls.
final class FakeCredentialProvider: CredentialProvider {
    enum Answer: Sendable { case credentials(Credentials), none, failure(CredentialError) }
    let name: String
    private let answer: Mutex<Answer>
    private let calls = Mutex(0)

    init(_ name: String, _ answer: Answer) {
        self.name = name
        self.answer = Mutex(answer)
    }

    func set(_ newAnswer: Answer) { answer.withLock { $0 = newAnswer } }
    var callCount: Int { calls.withLock { $0 } }

    func credentials() throws -> Credentials? {
        calls.withLock { $0 += 1 }
        switch answer.withLock({ $0 }) {
        case .credentials(let credentials): return credentials
        case .none: return nil
        case .failure(let error): throw error
        }
    }
}

/// A fresh temporary directory, removed by the caller's `defer`.
func makeTemporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

func write(_ text: String, to url: URL) throws {
    try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    try Data(text.utf8).write(to: url)
}

func json(_ object: [String: String]) -> [UInt8] {
    Array(try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]))
}
