#if canImport(Glibc)
import Glibc
#endif

/// `state.metrics_listen`: where the metrics HTTP endpoint listens, as
/// `host:port` with a numeric host: `0.0.0.0:9464` (every IPv4 interface,
/// as a container needs), `127.0.0.1:9464`, `[::]:9464`.
public struct MetricsListenAddress: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var isIPv6: Bool

    /// Why a value is not an address; says what a valid one looks like.
    public struct Invalid: Error, Sendable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    /// Parses `host:port`.
    public init(parsing text: String) throws(Invalid) {
        func bad(_ why: String) -> Invalid {
            Invalid(message: "'\(text)' \(why); give host:port with a numeric address, e.g. 0.0.0.0:9464 (every interface) or 127.0.0.1:9464 (this host only)")
        }
        guard let colon = text.lastIndex(of: ":") else { throw bad("has no port") }
        var host = String(text[..<colon])
        let portText = text[text.index(after: colon)...]
        guard let port = Int(portText) else { throw bad("has no port") }
        guard (1...65535).contains(port) else { throw bad("has a port outside 1 to 65535") }
        var v6 = false
        if host.hasPrefix("[") && host.hasSuffix("]") {
            host = String(host.dropFirst().dropLast())
            v6 = true
        }
        guard !host.isEmpty else { throw bad("has no address") }
        guard Self.isNumeric(host, ipv6: v6) else {
            throw bad(v6 ? "is not an IPv6 address" : "is not an IPv4 address (a name or a bare IPv6 address needs resolving or brackets)")
        }
        self.host = host
        self.port = port
        self.isIPv6 = v6
    }

    public var description: String { isIPv6 ? "[\(host)]:\(port)" : "\(host):\(port)" }

    static func isNumeric(_ host: String, ipv6: Bool) -> Bool {
        if ipv6 {
            var address = in6_addr()
            return inet_pton(AF_INET6, host, &address) == 1
        }
        var address = in_addr()
        return inet_pton(AF_INET, host, &address) == 1
    }
}
