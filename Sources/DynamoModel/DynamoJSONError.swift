/// The one error type of the DynamoModel module.
///
/// It says where (a byte offset) and what (a short fixed reason), never the
/// input itself: items can hold personal data, and these errors end up in
/// logs, metrics and the status file.
public struct DynamoJSONError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A stable category, usable as a metric label.
    public enum Code: String, Sendable, Hashable {
        /// The bytes are not well-formed JSON (syntax, bad escape, bad UTF-8, too deep).
        case invalidJSON = "invalid_json"
        /// Well-formed JSON that is not valid DynamoDB JSON (unknown type tag,
        /// bad number, bad base64, empty set, `NULL` not `true`, ...).
        case invalidItem = "invalid_item"
        /// The key attributes of an item are missing, of the wrong type or empty.
        case invalidKey = "invalid_key"
    }

    /// The category of the failure.
    public let code: Code
    /// Offset of the offending byte, counted from the start of the buffer
    /// that was handed in (not from the start of a sub-range); `nil` when the
    /// failure is about an in-memory value.
    public let offset: Int?
    /// A short fixed reason such as `expected ':'`; never contains input data.
    public let reason: String

    /// Creates an error; `reason` must not contain input data.
    public init(_ code: Code, at offset: Int?, _ reason: String) {
        self.code = code
        self.offset = offset
        self.reason = reason
    }

    /// For example `invalid JSON at byte 17: expected ':'`.
    public var description: String {
        let what: String
        switch code {
        case .invalidJSON: what = "invalid JSON"
        case .invalidItem: what = "invalid DynamoDB JSON"
        case .invalidKey: what = "invalid key"
        }
        if let offset {
            return "\(what) at byte \(offset): \(reason)"
        }
        return "\(what): \(reason)"
    }
}
