/// The pieces of an absolute URL that SigV4 signs, split without any
/// re-encoding: Foundation's `URL` rejects or rewrites paths that are not
/// strictly valid, and the signature must cover the bytes that go on the wire.
struct SigV4URLParts: Sendable, Equatable {
    /// `http` or `https`, lower-cased.
    var scheme: String
    /// Host and port as they belong in a `Host` header: the port only when it
    /// is not the scheme's default.
    var hostHeader: String
    /// The path as written, `/` when the URL has none.
    var path: String
    /// The raw query after `?` (without it), empty when absent.
    var query: String

    init(scheme: String, hostHeader: String, path: String, query: String) {
        self.scheme = scheme
        self.hostHeader = hostHeader
        self.path = path
        self.query = query
    }

    /// Splits `url`. A URL without `scheme://` is taken as a path (with an
    /// optional query) and gets an empty host.
    init(_ url: String) {
        var rest = Substring(url)
        if let hash = rest.firstIndex(of: "#") { rest = rest[..<hash] }

        var scheme = ""
        var authority = Substring("")
        if let marker = rest.range(of: "://") {
            scheme = rest[..<marker.lowerBound].lowercased()
            let afterScheme = rest[marker.upperBound...]
            let authorityEnd = afterScheme.firstIndex { $0 == "/" || $0 == "?" } ?? afterScheme.endIndex
            authority = afterScheme[..<authorityEnd]
            rest = afterScheme[authorityEnd...]
        }
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }

        let queryStart = rest.firstIndex(of: "?")
        let rawPath = queryStart.map { rest[..<$0] } ?? rest
        let rawQuery = queryStart.map { rest[rest.index(after: $0)...] } ?? ""

        self.scheme = scheme
        self.hostHeader = Self.hostHeader(authority: authority, scheme: scheme)
        self.path = rawPath.isEmpty ? "/" : String(rawPath)
        self.query = String(rawQuery)
    }

    private static func hostHeader(authority: Substring, scheme: String) -> String {
        // The port follows the last colon, unless that colon is inside an IPv6 literal.
        guard let colon = authority.lastIndex(of: ":"),
              !authority[colon...].contains("]") else { return authority.lowercased() }
        let host = authority[..<colon].lowercased()
        let port = authority[authority.index(after: colon)...]
        let defaultPort: Substring? = scheme == "https" ? "443" : scheme == "http" ? "80" : nil
        if port.isEmpty || port == defaultPort { return host }
        return "\(host):\(port)"
    }
}
