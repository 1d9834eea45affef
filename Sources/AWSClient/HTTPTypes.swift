/// An HTTP request as Ferry's clients build it: a complete body in memory
/// (DynamoDB requests are at most a few MB) and ordered headers.
public struct HTTPRequest: Sendable {
    public var method: String
    /// Absolute URL, `http://` or `https://`.
    public var url: String
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(method: String, url: String, headers: [(name: String, value: String)] = [], body: [UInt8] = []) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
    }

    /// The first header with this name, compared case-insensitively.
    public func header(_ name: String) -> String? {
        let lower = name.lowercased()
        return headers.first { $0.name.lowercased() == lower }?.value
    }
}

/// A complete HTTP response. Header names are stored lower-cased.
public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: [String: String]
    public var body: [UInt8]

    public init(status: Int, headers: [String: String] = [:], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public func header(_ name: String) -> String? { headers[name.lowercased()] }
    public var bodyText: String { String(decoding: body, as: UTF8.self) }
}

/// Sends one request and waits for the whole response. Implementations are
/// blocking (they run on Dispatch queues, never on the main thread of a UI).
public protocol HTTPTransport: Sendable {
    /// - Parameter operation: a short name for errors and logs ("GetRecords").
    func send(_ request: HTTPRequest, operation: String) throws(HTTPError) -> HTTPResponse

    /// Sends the request and hands a 2xx response body to `onBody` piece by
    /// piece as it arrives; non-2xx bodies are returned whole (they carry
    /// the service's error). An error thrown by `onBody` aborts the transfer.
    func stream(_ request: HTTPRequest, operation: String,
                onBody: (UnsafeRawBufferPointer) throws -> Void) throws(HTTPError) -> HTTPResponse
}

/// A failure below HTTP: the request got no response at all.
public struct HTTPError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        case connect          // could not connect (refused, DNS, unreachable)
        case timeout          // connect or total timeout
        case connectionReset  // the peer dropped the connection mid-exchange
        case tls              // certificate or handshake failure
        case invalidURL
        case other
        /// The thread's ``RequestGate`` refused the request before it left,
        /// or stopped it in flight. Says nothing about the node.
        case withheld
    }
    public var kind: Kind
    public var host: String
    public var operation: String
    public var detail: String

    public init(kind: Kind, host: String, operation: String, detail: String) {
        self.kind = kind
        self.host = host
        self.operation = operation
        self.detail = detail
    }

    public var description: String { "\(operation) to \(host) failed: \(detail)" }
}

extension HTTPTransport {
    /// Streams the body of a 2xx response to `onBody`. Transports that cannot
    /// stream (test fakes) deliver it in one piece.
    public func stream(_ request: HTTPRequest, operation: String,
                       onBody: (UnsafeRawBufferPointer) throws -> Void) throws(HTTPError) -> HTTPResponse {
        var response = try send(request, operation: operation)
        if (200..<300).contains(response.status) {
            do { try response.body.withUnsafeBytes { try onBody($0) } } catch {
                throw HTTPError(kind: .other, host: "", operation: operation, detail: "\(error)")
            }
            response.body = []
        }
        return response
    }
}
