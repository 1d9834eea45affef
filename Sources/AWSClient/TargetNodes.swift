import Foundation
import Logging
import Synchronization

/// The nodes of an Alternator target, shared by every call Ferry makes to
/// it: start-up checks, CreateTable, the writer lanes, Scan and
/// BatchGetItem of a verification. Alternator has no load balancer of its
/// own, so spreading requests is the client's job.
///
/// Calls go round robin over the nodes that are up. A node that cannot be
/// reached, or answers 5xx, is set aside for ``setAsideSeconds`` and the same
/// call moves on to the next node; only when every node failed does the
/// call fail (and the caller's retry loop backs off). When its time is up a
/// set-aside node gets requests again, and it has returned once one of them
/// succeeds. Setting aside logs a warning, returning a notice.
public final class TargetNodes: Sendable {
    /// One node as the status file shows it.
    public struct State: Sendable, Equatable {
        /// `scheme://host:port`, never user-info or a path.
        public var url: String
        /// False from the failure that set it aside until a request succeeds.
        public var up: Bool
        /// When it last went up or was set aside (wall clock).
        public var since: Date
        /// Requests that failed on this node (connection or 5xx) since start.
        public var failures: Int
        /// The last such failure, safe for logs.
        public var lastError: String?
    }

    struct Node {
        var client: AWSJSONClient
        var asideUntil: Double = 0
        var state: State

        init(client: AWSJSONClient, since: Date) {
            self.client = client
            state = State(url: TargetNodes.displayURL(client.endpoint.url), up: true, since: since, failures: 0)
        }
    }

    private let nodes: Mutex<(list: [Node], next: Int)>
    public let setAsideSeconds: Double
    private let now: @Sendable () -> Double
    private let wallClock: @Sendable () -> Date
    private let logger: Logger
    /// "target", or "source" for Alternator read in reverse: named in logs.
    public let role: String

    /// - Parameters:
    ///   - clients: one single-node client per node, each with its own connections.
    ///   - setAsideSeconds: how long a failed node gets no requests (while another is up).
    public init(clients: [AWSJSONClient], role: String = "target", setAsideSeconds: Double = 10,
                logger: Logger = Logger(label: "ferry.target"),
                now: @escaping @Sendable () -> Double = TargetNodes.monotonicNow,
                wallClock: @escaping @Sendable () -> Date = { Date() }) {
        precondition(!clients.isEmpty, "a target needs at least one node")
        let start = wallClock()
        nodes = Mutex((clients.map { Node(client: $0, since: start) }, 0))
        self.setAsideSeconds = setAsideSeconds
        self.now = now
        self.wallClock = wallClock
        self.logger = logger
        self.role = role
    }

    /// A DynamoDB client whose every call goes through these nodes.
    public var client: DynamoDBClient { DynamoDBClient(json: json) }

    /// A client of the nodes' protocol (DynamoDB or DynamoDB Streams, as
    /// the nodes' own clients speak) whose every call goes through them.
    public var json: AWSJSONClient {
        let first = nodes.withLock { $0.list[0].client }
        return AWSJSONClient(routedBy: self, like: first)
    }

    public var urls: [String] { nodes.withLock { $0.list.map(\.client.endpoint.url) } }

    /// Each node's state, in the configured (or discovered) order.
    public var states: [State] { nodes.withLock { $0.list.map(\.state) } }

    /// Installs a new node list (after `GET /localnodes`); nodes already
    /// known keep their state.
    public func replace(_ clients: [AWSJSONClient]) {
        guard !clients.isEmpty else { return }
        let start = wallClock()
        nodes.withLock { s in
            var known: [String: Node] = [:]
            for node in s.list { known[node.client.endpoint.url] = node }
            s.list = clients.map { known[$0.endpoint.url] ?? Node(client: $0, since: start) }
            s.next = s.next % s.list.count
        }
    }

    /// Sends one operation once per node at most: the next node that is up
    /// first, then the others in turn, then (when none is left) the
    /// set-aside nodes, soonest back first. Returns the first answer that
    /// is not a node failure; throws the last node failure when all failed.
    func attempt(_ operation: String, body: [UInt8]) throws(AWSClientError) -> [UInt8] {
        var tried = Set<String>()
        var lastFailure: AWSClientError?
        while let client = pick(excluding: tried) {
            let url = client.endpoint.url
            tried.insert(url)
            do {
                let answer = try client.attempt(operation, body: body)
                answered(url)
                return answer
            } catch {
                guard Self.isNodeFailure(error) else {
                    answered(url)  // the node is alive; the request was wrong
                    throw error
                }
                failed(url, error)
                lastFailure = error
            }
        }
        // `pick` returns a node whenever none was tried, so this is set.
        throw lastFailure ?? .http(HTTPError(kind: .other, host: role, operation: operation, detail: "no \(role) node"))
    }

    /// A failure that says the node, not the request, is the problem: no
    /// response at all, or a server error.
    public static func isNodeFailure(_ error: AWSClientError) -> Bool {
        switch error {
        case .http(let e): return e.kind != .withheld
        case .service(let e): return e.status >= 500
        default: return false
        }
    }

    func pick(excluding tried: Set<String>) -> AWSJSONClient? {
        let t = now()
        return nodes.withLock { s in
            let n = s.list.count
            for step in 0..<n {
                let i = (s.next + step) % n
                let node = s.list[i]
                if node.asideUntil <= t, !tried.contains(node.client.endpoint.url) {
                    if tried.isEmpty { s.next = (i + 1) % n }
                    return node.client
                }
            }
            return s.list.filter { !tried.contains($0.client.endpoint.url) }.min { $0.asideUntil < $1.asideUntil }?.client
        }
    }

    private func answered(_ url: String) {
        let date = wallClock()
        let returned = nodes.withLock { s -> (State, Date)? in
            guard let i = s.list.firstIndex(where: { $0.client.endpoint.url == url }), !s.list[i].state.up else { return nil }
            let downSince = s.list[i].state.since
            s.list[i].asideUntil = 0
            s.list[i].state.up = true
            s.list[i].state.since = date
            return (s.list[i].state, downSince)
        }
        if let (state, downSince) = returned {
            logger.notice("\(role) node returned", metadata: [
                "node": "\(state.url)", "down_seconds": "\(Int(date.timeIntervalSince(downSince).rounded()))",
            ])
        }
    }

    private func failed(_ url: String, _ error: AWSClientError) {
        let date = wallClock()
        let until = now() + setAsideSeconds
        let wentDown = nodes.withLock { s -> State? in
            guard let i = s.list.firstIndex(where: { $0.client.endpoint.url == url }) else { return nil }
            s.list[i].asideUntil = until
            s.list[i].state.failures += 1
            s.list[i].state.lastError = error.description
            guard s.list[i].state.up else { return nil }
            s.list[i].state.up = false
            s.list[i].state.since = date
            return s.list[i].state
        }
        if let state = wentDown {
            logger.warning("\(role) node set aside: its requests go to the other nodes", metadata: [
                "node": "\(state.url)", "seconds": "\(Int(setAsideSeconds.rounded(.up)))", "error": "\(error)",
            ])
        }
    }

    /// `scheme://host:port` of a node URL: no user-info, path or query.
    static func displayURL(_ url: String) -> String {
        guard let schemeEnd = url.range(of: "://") else { return URLHost.of(url) }
        return url[..<schemeEnd.upperBound] + URLHost.of(url)
    }

    /// Seconds on a clock that never jumps (set-asides must not follow NTP).
    public static func monotonicNow() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}
