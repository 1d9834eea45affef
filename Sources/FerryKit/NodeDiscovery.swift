import AWSClient
import Dispatch
import DynamoModel
import Foundation
import Logging
import Replication

/// `target.discover_nodes`: asks an Alternator node for the live nodes of
/// its datacenter (`GET /localnodes`, a JSON list of addresses) and spreads
/// requests over all of them, refreshing the list every minute. The
/// configured endpoints stay the seed; a failed refresh keeps the last list.
public final class NodeDiscovery: Sendable {
    let seeds: [String]
    let transport: any HTTPTransport
    let target: AlternatorTarget
    let makeClient: @Sendable (String) -> DynamoDBClient
    let logger: Logger
    let timer: DispatchSourceTimerBox

    public init(seeds: [String], transport: any HTTPTransport, target: AlternatorTarget,
                interval: Double = 60, logger: Logger, makeClient: @escaping @Sendable (String) -> DynamoDBClient) {
        self.seeds = seeds
        self.transport = transport
        self.target = target
        self.makeClient = makeClient
        self.logger = logger
        timer = DispatchSourceTimerBox(interval: interval, startAfter: interval)
        timer.setHandler { [weak self] in _ = try? self?.refresh() }
    }

    public func start() { timer.resume() }
    public func cancel() { timer.cancel() }

    /// Fetches the node list from the first seed that answers and installs it.
    @discardableResult
    public func refresh() throws -> [String] {
        var lastError: Error = SetupError("no seed endpoint")
        for seed in seeds {
            do {
                let response = try transport.send(HTTPRequest(method: "GET", url: seed + "/localnodes"), operation: "localnodes")
                guard response.status == 200 else {
                    throw SetupError("GET \(seed)/localnodes answered HTTP \(response.status)")
                }
                let urls = try Self.nodeURLs(response.body, seed: seed)
                target.replaceNodes(urls.map(makeClient))
                logger.info("Alternator nodes discovered", metadata: ["nodes": "\(urls.joined(separator: ","))"])
                return urls
            } catch {
                lastError = error
            }
        }
        logger.warning("Alternator node discovery failed; keeping the current nodes", metadata: ["error": "\(lastError)"])
        throw lastError
    }

    /// The node URLs: each address with the seed's scheme and port.
    static func nodeURLs(_ body: [UInt8], seed: String) throws -> [String] {
        guard case .array(let values)? = try? JSONValue.parse(body) else {
            throw SetupError("/localnodes did not answer a JSON list of addresses")
        }
        let addresses = values.compactMap(\.stringValue).filter { !$0.isEmpty }
        guard !addresses.isEmpty else { throw SetupError("/localnodes answered an empty node list") }
        guard let schemeEnd = seed.range(of: "://") else { throw SetupError("endpoint \(seed) has no scheme") }
        let scheme = seed[..<schemeEnd.lowerBound]
        let authority = seed[schemeEnd.upperBound...].prefix { $0 != "/" }
        var port = scheme == "https" ? "443" : "80"
        if let colon = authority.lastIndex(of: ":"), !authority[authority.index(after: colon)...].contains("]") {
            port = String(authority[authority.index(after: colon)...])
        }
        return addresses.map { address in
            let host = address.contains(":") && !address.hasPrefix("[") ? "[\(address)]" : address
            return "\(scheme)://\(host):\(port)"
        }
    }
}
