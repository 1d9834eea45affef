import AWSClient
import DynamoModel

/// Where writer lanes send their writes. One attempt per call: lanes run
/// their own retry loops, because UnprocessedItems and per-item failures
/// need more than re-sending the same request.
public protocol TargetWriter: Sendable {
    /// One BatchWriteItem; returns the writes the target did not apply.
    func batchWrite(_ writes: [WriteRequest]) throws(AWSClientError) -> [WriteRequest]
    /// One UpdateItem, given as its complete request body.
    func update(body: [UInt8]) throws(AWSClientError)
}

/// Alternator (or DynamoDB) as the target: requests go through the
/// target's ``TargetNodes`` (round robin; a node that fails to answer is set
/// aside and the request moves on to the next one).
public final class AlternatorTarget: TargetWriter {
    public let table: String
    /// Shared with every other call to the target (start-up checks, verify).
    public let nodes: TargetNodes
    private let client: DynamoDBClient

    public init(table: String, nodes: TargetNodes) {
        self.table = table
        self.nodes = nodes
        self.client = nodes.client
    }

    /// - Parameter clients: one client per node, each with its own connections.
    public convenience init(table: String, clients: [DynamoDBClient], setAsideSeconds: Double = 10) {
        self.init(table: table, nodes: TargetNodes(clients: clients.map(\.json), setAsideSeconds: setAsideSeconds))
    }

    public func batchWrite(_ writes: [WriteRequest]) throws(AWSClientError) -> [WriteRequest] {
        try client.batchWriteItem(table: table, writes: writes, retrying: false)
    }

    public func update(body: [UInt8]) throws(AWSClientError) {
        _ = try client.json.attempt("UpdateItem", body: body)
    }

    /// Replaces the node list (after `GET /localnodes`).
    public func replaceNodes(_ clients: [DynamoDBClient]) {
        nodes.replace(clients.map(\.json))
    }

    public var nodeURLs: [String] { nodes.urls }
}

#if canImport(Glibc)
import Glibc
#endif

/// Seconds on a clock that never jumps (for timeouts and set-asides).
public func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}
