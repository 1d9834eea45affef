/// An error answer from an AWS service (or Alternator, or a stand-in).
///
/// `code` is the part of `__type` after `#` (JSON services) or the `<Code>`
/// of an S3 XML error; `message` is the service's text. The raw body is kept
/// for debugging but never printed: `description` is safe for logs.
public struct AWSServiceError: Error, Sendable, CustomStringConvertible {
    public var code: String
    public var message: String
    public var status: Int
    public var operation: String
    public var host: String
    public var rawBody: [UInt8]

    public init(code: String, message: String, status: Int, operation: String, host: String, rawBody: [UInt8] = []) {
        self.code = code
        self.message = message
        self.status = status
        self.operation = operation
        self.host = host
        self.rawBody = rawBody
    }

    public var description: String {
        let text = message.isEmpty ? "" : ": \(Self.clip(message))"
        return "\(operation) on \(host) failed with \(code) (HTTP \(status))\(text)"
    }

    /// Service messages can echo parts of a request; keep them short.
    static func clip(_ s: String) -> String {
        s.count <= 300 ? s : String(s.prefix(300)) + "…"
    }
}
