import DynamoModel
import Foundation

/// The AWS JSON 1.0 protocol (DynamoDB, DynamoDB Streams, Alternator):
/// `POST /` with `X-Amz-Target: <prefix>.<Operation>` and an
/// `application/x-amz-json-1.0` body, SigV4-signed, retried by class.
public final class AWSJSONClient: Sendable {
    public let endpoint: Endpoint
    /// "DynamoDB_20120810" or "DynamoDBStreams_20120810".
    public let targetPrefix: String
    public let retry: RetryPolicy
    private let credentials: any CredentialProvider
    private let transport: any HTTPTransport
    private let clock: @Sendable () -> Date
    private let host: String
    /// Set on a client that spreads its calls over a target's nodes.
    private let nodes: TargetNodes?

    public init(endpoint: Endpoint, targetPrefix: String, credentials: any CredentialProvider,
                transport: any HTTPTransport, retry: RetryPolicy = RetryPolicy(),
                clock: @escaping @Sendable () -> Date = { Date() }) {
        self.endpoint = endpoint
        self.targetPrefix = targetPrefix
        self.credentials = credentials
        self.transport = transport
        self.retry = retry
        self.clock = clock
        self.host = URLHost.of(endpoint.url)
        self.nodes = nil
    }

    /// A client whose every attempt goes through `nodes` (one single-node
    /// client per node); prefix, credentials, retry policy and clock are
    /// those of `template`.
    init(routedBy nodes: TargetNodes, like template: AWSJSONClient) {
        endpoint = template.endpoint
        targetPrefix = template.targetPrefix
        credentials = template.credentials
        transport = template.transport
        retry = template.retry
        clock = template.clock
        host = "target"
        self.nodes = nodes
    }

    /// The credentials this client signs with (to build a sibling client).
    public var credentialProvider: any CredentialProvider { credentials }

    /// Sends one operation with retries and returns the 2xx response body.
    public func call(_ operation: String, body: [UInt8]) throws(AWSClientError) -> [UInt8] {
        try retry.execute(operation: operation) { () throws(AWSClientError) -> [UInt8] in
            try attempt(operation, body: body)
        }
    }

    /// Sends one operation once, without retrying (the caller has its own
    /// loop, as a writer lane does for UnprocessedItems).
    public func attempt(_ operation: String, body: [UInt8]) throws(AWSClientError) -> [UInt8] {
        if let nodes { return try nodes.attempt(operation, body: body) }
        let creds: Credentials
        do {
            guard let found = try credentials.credentials() else {
                throw AWSClientError.credentials(CredentialError(
                    .noCredentials, provider: credentials.name,
                    message: "no credentials found for \(endpoint.url)"))
            }
            creds = found
        } catch let error as AWSClientError {
            throw error
        } catch let error as CredentialError {
            throw .credentials(error)
        } catch {
            throw .credentials(CredentialError(.providerFailed, provider: credentials.name, message: "\(error)"))
        }
        let request = HTTPRequest(
            method: "POST", url: endpoint.url + "/",
            headers: [("Content-Type", "application/x-amz-json-1.0"),
                      ("X-Amz-Target", "\(targetPrefix).\(operation)")],
            body: body)
        let signer = SigV4Signer(credentials: creds, region: endpoint.region, service: endpoint.service.signingName)
        let signed = signer.sign(request, signingDate: clock())
        let response: HTTPResponse
        do {
            response = try transport.send(signed, operation: operation)
        } catch {
            throw .http(error)
        }
        guard (200..<300).contains(response.status) else {
            throw .service(AWSClientError.decodeJSONError(response, operation: operation, host: host))
        }
        return response.body
    }

    /// Parses a response body, turning a parse failure into `invalidResponse`.
    func view(_ body: [UInt8], operation: String) throws(AWSClientError) -> JSONView {
        do {
            return try JSONView(body)
        } catch {
            throw .invalidResponse(operation: operation, host: host, detail: "\(error)")
        }
    }

    func invalid(_ operation: String, _ detail: String) -> AWSClientError {
        .invalidResponse(operation: operation, host: host, detail: detail)
    }
}

/// `host[:port]` of a URL, for messages: never the path, the query or
/// user-info, which may carry secrets.
enum URLHost {
    /// On the UTF-8 bytes: it runs for every request (for error messages).
    static func of(_ url: String) -> String {
        let b = Array(url.utf8)
        var start: Int?
        var i = 0
        while i + 2 < b.count {
            if b[i] == UInt8(ascii: ":"), b[i + 1] == UInt8(ascii: "/"), b[i + 2] == UInt8(ascii: "/") { start = i + 3; break }
            i += 1
        }
        guard let start else { return url }
        var end = start
        while end < b.count, b[end] != UInt8(ascii: "/"), b[end] != UInt8(ascii: "?") { end += 1 }
        let authority = b[start..<end]
        let host = authority.lastIndex(of: UInt8(ascii: "@")).map { authority[($0 + 1)...] } ?? authority
        return String(decoding: host, as: UTF8.self)
    }
}
