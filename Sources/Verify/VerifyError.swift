import AWSClient

/// Why a verification could not be carried out (as opposed to the tables
/// being out of sync). Every case maps to exit status 2. `description` is
/// safe for logs: it names operations, tables and hosts, never item values.
public enum VerifyError: Error, Sendable, CustomStringConvertible {
    /// Which table a failed call was made against.
    public enum Side: String, Sendable {
        case source, target
    }

    /// A call to one side failed after the client's own retries.
    case call(side: Side, operation: String, error: AWSClientError)
    /// BatchGetItem kept returning some keys as unprocessed.
    case unprocessedKeys(side: Side, keys: Int, rounds: Int)
    /// A response or an item that breaks the DynamoDB JSON rules or the key schema.
    case invalidData(side: Side, detail: String)
    /// The keys file cannot be read or holds a line that is not a key.
    case keysFile(path: String, detail: String)
    /// The mismatch report cannot be written.
    case report(path: String, detail: String)
    /// An option that does not make sense.
    case invalidOption(String)

    /// A stable code for metrics and tests.
    public var code: String {
        switch self {
        case .call(_, _, let error): "call.\(error.code)"
        case .unprocessedKeys: "unprocessed_keys"
        case .invalidData: "invalid_data"
        case .keysFile: "keys_file"
        case .report: "report"
        case .invalidOption: "invalid_option"
        }
    }

    public var description: String {
        switch self {
        case .call(let side, let operation, let error):
            return "\(operation) on the \(side.rawValue) failed: \(error)"
        case .unprocessedKeys(let side, let keys, let rounds):
            return "BatchGetItem on the \(side.rawValue) left \(keys) keys unprocessed after \(rounds) attempts "
                + "(the table is throttled: lower verify.\(side.rawValue)_reads_per_second)"
        case .invalidData(let side, let detail):
            return "the \(side.rawValue) returned data Ferry cannot compare: \(detail)"
        case .keysFile(let path, let detail):
            return "keys file \(path): \(detail)"
        case .report(let path, let detail):
            return "mismatch report \(path): \(detail)"
        case .invalidOption(let detail):
            return detail
        }
    }
}
