import DynamoModel

/// Every failure of a call to AWS (or Alternator) through this module.
/// `description` is safe for logs: no secrets, no item values.
public enum AWSClientError: Error, Sendable, CustomStringConvertible, RetryClassifiable {
    /// No HTTP response at all (connection, timeout, TLS).
    case http(HTTPError)
    /// The service answered with an error.
    case service(AWSServiceError)
    /// No usable credentials.
    case credentials(CredentialError)
    /// The service answered 2xx with a body this client cannot read.
    case invalidResponse(operation: String, host: String, detail: String)
    /// A failure that must not be retried by the call itself (a stream
    /// already partly consumed); the caller decides what to redo.
    indirect case notRetried(AWSClientError)

    /// This error, marked so the retry policy gives up at once.
    public var terminalized: AWSClientError { .notRetried(self) }

    /// A stable code for metrics and tests.
    public var code: String {
        switch self {
        case .http(let e): return "http.\(e.kind)"
        case .service(let e): return "service.\(e.code)"
        case .credentials(let e): return e.code.rawValue
        case .invalidResponse: return "response.invalid"
        case .notRetried(let e): return e.code
        }
    }

    public var serviceError: AWSServiceError? {
        switch self {
        case .service(let e): return e
        case .notRetried(let e): return e.serviceError
        default: return nil
        }
    }

    public var retryClass: RetryClass {
        switch self {
        case .http(let e): return e.retryClass
        case .service(let e): return RetryClassifier.standard.classify(status: e.status, code: e.code, httpErrorKind: nil)
        case .credentials: return .terminal
        // A 2xx with a cut or garbled body is most likely a broken connection.
        case .invalidResponse: return .transient
        case .notRetried: return .terminal
        }
    }

    public var isTimeout: Bool {
        if case .http(let e) = self { return e.kind == .timeout }
        return false
    }

    public var description: String {
        switch self {
        case .http(let e):
            return e.description
        case .service(let e):
            return e.description + (Self.hint(for: e.code).map { " (\($0))" } ?? "")
        case .credentials(let e):
            return e.description
        case .invalidResponse(let operation, let host, let detail):
            return "\(operation) on \(host) returned a response Ferry cannot read: \(detail)"
        case .notRetried(let e):
            return e.description
        }
    }

    /// What to change, for the errors a user causes by configuration.
    static func hint(for code: String) -> String? {
        switch code {
        case "UnrecognizedClientException", "InvalidClientTokenId":
            return "the access key id is not known to this endpoint: check the credentials configured for it"
        case "InvalidSignatureException", "SignatureDoesNotMatch":
            return "the signature does not match: check the secret access key, and that the clock is right"
        case "ExpiredTokenException", "ExpiredToken":
            return "the session token has expired: refresh the temporary credentials"
        case "AccessDeniedException", "AccessDenied":
            return "the credentials lack a permission: see deploy/ for the IAM policy Ferry needs"
        case "ResourceNotFoundException", "NoSuchBucket", "NoSuchKey":
            return "check the table, stream, bucket or key name and the region"
        default:
            return nil
        }
    }

    /// Reads a JSON-protocol error body: the code is the part of `__type`
    /// after `#` (or the `x-amzn-ErrorType` header), the message is
    /// `message` or `Message`. An XML error document gives its `Code` and
    /// `Message`; any other body (a proxy's HTML page) still gives an error
    /// with the HTTP status.
    static func decodeJSONError(_ response: HTTPResponse, operation: String, host: String) -> AWSServiceError {
        var code: String?
        var message = ""
        if let body = try? JSONValue.parse(response.body) {
            code = body["__type"]?.stringValue ?? body["code"]?.stringValue ?? body["Code"]?.stringValue
            message = body["message"]?.stringValue ?? body["Message"]?.stringValue ?? ""
        } else if response.body.first(where: { $0 > 32 }) == UInt8(ascii: "<"),
                  let xmlCode = XMLScanner(response.body).first("Code") {
            // Some front ends (and moto's signature check) answer in XML.
            code = xmlCode
            message = XMLScanner(response.body).first("Message") ?? ""
        } else if !response.body.isEmpty {
            message = Self.plainText(response.body)
        }
        if code == nil, let header = response.header("x-amzn-errortype") {
            code = String(header.prefix { $0 != ":" })
        }
        let shortCode = code.map { c in c.split(separator: "#").last.map(String.init) ?? c } ?? "HTTP\(response.status)"
        return AWSServiceError(code: shortCode, message: message, status: response.status,
                               operation: operation, host: host, rawBody: response.body)
    }

    /// The first line of a non-JSON error body with markup removed, short.
    static func plainText(_ body: [UInt8]) -> String {
        var text = ""
        var inTag = false
        for scalar in String(decoding: body.prefix(2000), as: UTF8.self).unicodeScalars {
            if scalar == "<" { inTag = true; text.append(" "); continue }
            if scalar == ">" { inTag = false; continue }
            if !inTag { text.unicodeScalars.append(scalar) }
        }
        let words = text.split(whereSeparator: { $0.isWhitespace })
        return String(words.joined(separator: " ").prefix(200))
    }
}
