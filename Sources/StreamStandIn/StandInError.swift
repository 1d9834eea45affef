/// The one error type of the test-control API of ``StreamStandIn`` (wire
/// errors are answers, not Swift errors). `code` is stable.
public struct StandInError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        case tableExists = "table_exists"
        case tableNotFound = "table_not_found"
        case noStream = "no_stream"
        case shardNotFound = "shard_not_found"
        case shardClosed = "shard_closed"
        case invalidArgument = "invalid_argument"
        case invalidItem = "invalid_item"
    }

    public let code: Code
    /// A short reason; names tables and shards, never item values.
    public let reason: String

    public init(_ code: Code, _ reason: String) {
        self.code = code
        self.reason = reason
    }

    public var description: String { "\(code.rawValue): \(reason)" }
}
