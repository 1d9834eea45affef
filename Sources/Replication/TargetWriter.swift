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

/// Alternator (or DynamoDB) as the target: requests go round-robin over the
/// configured nodes, and a node that fails to answer is set aside for a
/// while so its requests go to the others. Alternator has no load balancer
/// of its own; spreading requests is the client's job.
public final class AlternatorTarget: TargetWriter {
    public let table: String
    private let nodes: NodeSet

    /// - Parameter clients: one client per node, each with its own connections.
    public init(table: String, clients: [DynamoDBClient], setAsideSeconds: Double = 10,
                now: @escaping @Sendable () -> Double = monotonicSeconds) {
        precondition(!clients.isEmpty)
        self.table = table
        self.nodes = NodeSet(clients: clients, setAsideSeconds: setAsideSeconds, now: now)
    }

    public func batchWrite(_ writes: [WriteRequest]) throws(AWSClientError) -> [WriteRequest] {
        try nodes.with { client throws(AWSClientError) in
            try client.batchWriteItem(table: table, writes: writes, retrying: false)
        }
    }

    public func update(body: [UInt8]) throws(AWSClientError) {
        try nodes.with { client throws(AWSClientError) in
            _ = try client.json.attempt("UpdateItem", body: body)
        }
    }

    /// Replaces the node list (after `GET /localnodes`).
    public func replaceNodes(_ clients: [DynamoDBClient]) {
        nodes.replace(clients)
    }

    public var nodeURLs: [String] { nodes.urls }
}

import Synchronization

/// The nodes of a target and which are set aside until when.
final class NodeSet: Sendable {
    private struct State {
        var clients: [DynamoDBClient]
        var asideUntil: [Double]
        var next = 0
    }

    private let state: Mutex<State>
    private let setAsideSeconds: Double
    private let now: @Sendable () -> Double

    init(clients: [DynamoDBClient], setAsideSeconds: Double, now: @escaping @Sendable () -> Double) {
        state = Mutex(State(clients: clients, asideUntil: Array(repeating: 0, count: clients.count)))
        self.setAsideSeconds = setAsideSeconds
        self.now = now
    }

    var urls: [String] { state.withLock { $0.clients.map(\.json.endpoint.url) } }

    func replace(_ clients: [DynamoDBClient]) {
        guard !clients.isEmpty else { return }
        state.withLock { $0 = State(clients: clients, asideUntil: Array(repeating: 0, count: clients.count)) }
    }

    /// The next node in turn that is not set aside (or, when all are, the
    /// one that comes back soonest).
    func pick() -> (Int, DynamoDBClient) {
        let t = now()
        return state.withLock { s in
            let n = s.clients.count
            for step in 0..<n {
                let i = (s.next + step) % n
                if s.asideUntil[i] <= t {
                    s.next = (i + 1) % n
                    return (i, s.clients[i])
                }
            }
            let soonest = s.asideUntil.indices.min { s.asideUntil[$0] < s.asideUntil[$1] } ?? 0
            return (soonest, s.clients[soonest])
        }
    }

    func setAside(_ index: Int, url: String) {
        let until = now() + setAsideSeconds
        state.withLock { s in
            // The list may have been replaced meanwhile; match by URL.
            if index < s.clients.count, s.clients[index].json.endpoint.url == url { s.asideUntil[index] = until }
        }
    }

    /// Runs `body` on the next node; a node that could not be reached or
    /// answered 5xx is set aside, and the error goes to the caller's retry.
    func with<T>(_ body: (DynamoDBClient) throws(AWSClientError) -> T) throws(AWSClientError) -> T {
        let (index, client) = pick()
        do {
            return try body(client)
        } catch {
            switch error {
            case .http:
                setAside(index, url: client.json.endpoint.url)
            case .service(let e) where e.status >= 500:
                setAside(index, url: client.json.endpoint.url)
            default:
                break
            }
            throw error
        }
    }
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
