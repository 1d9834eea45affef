/// One complete HTTP request as the server read it: the body is already
/// de-chunked and fully in memory.
public struct ServerRequest: Sendable {
    /// The method exactly as sent ("GET", "POST").
    public var method: String
    /// The request target as sent, path and query together ("/a/b?x=1").
    public var target: String
    /// The path part of the target, without the query ("/a/b").
    public var path: String
    /// The query part of the target, without the "?" ("x=1"); empty if none.
    public var query: String
    /// "HTTP/1.1" or "HTTP/1.0".
    public var version: String
    /// Headers in the order they arrived, names as sent.
    public var headerList: [(name: String, value: String)]
    /// Headers by lower-cased name; repeated headers are joined with ", ".
    public var headers: [String: String]
    public var body: [UInt8]
    /// 1-based number of the connection this request came on, in accept order.
    public var connectionID: Int
    /// 1-based number of this request on its connection (2 = the first reuse).
    public var indexOnConnection: Int
    /// 1-based number of this request across the whole server.
    public var sequence: Int

    public init(
        method: String, target: String, version: String = "HTTP/1.1",
        headerList: [(name: String, value: String)] = [], body: [UInt8] = [],
        connectionID: Int = 1, indexOnConnection: Int = 1, sequence: Int = 1
    ) {
        self.method = method
        self.target = target
        // Proxies send the absolute form ("http://host/p?q"); keep only "/p?q".
        var relative = Substring(target)
        if let scheme = relative.firstRange(of: "://"), !relative.hasPrefix("/") {
            let afterAuthority = relative[scheme.upperBound...]
            relative = afterAuthority.firstIndex(of: "/").map { afterAuthority[$0...] } ?? "/"
        }
        if let mark = relative.firstIndex(of: "?") {
            self.path = String(relative[..<mark])
            self.query = String(relative[relative.index(after: mark)...])
        } else {
            self.path = String(relative)
            self.query = ""
        }
        self.version = version
        self.headerList = headerList
        var byName: [String: String] = [:]
        for (name, value) in headerList {
            let key = name.lowercased()
            if let existing = byName[key] {
                byName[key] = existing + ", " + value
            } else {
                byName[key] = value
            }
        }
        self.headers = byName
        self.body = body
        self.connectionID = connectionID
        self.indexOnConnection = indexOnConnection
        self.sequence = sequence
    }

    /// The header with this name, compared case-insensitively.
    public func header(_ name: String) -> String? { headers[name.lowercased()] }

    /// The body decoded as UTF-8 (invalid bytes are replaced).
    public var bodyText: String { String(decoding: body, as: UTF8.self) }
}
