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
    /// optional query) and gets an empty host. Works on the UTF-8 bytes:
    /// every request is signed, and Foundation's string search cost more
    /// than the rest of the signature.
    init(_ url: String) {
        let b = Array(url.utf8)
        let end = b.firstIndex(of: UInt8(ascii: "#")) ?? b.count
        var scheme: [UInt8] = []
        var authority = b[0..<0]
        var rest = 0
        if let marker = Self.find(Array("://".utf8), in: b[0..<end]) {
            scheme = Self.lowercased(b[0..<marker])
            let start = marker + 3
            let authorityEnd = b[start..<end].firstIndex { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") } ?? end
            authority = b[start..<authorityEnd]
            rest = authorityEnd
        }
        if let at = authority.lastIndex(of: UInt8(ascii: "@")) { authority = authority[(at + 1)...] }
        let queryStart = b[rest..<end].firstIndex(of: UInt8(ascii: "?"))
        let rawPath = b[rest..<(queryStart ?? end)]
        let rawQuery = queryStart.map { b[($0 + 1)..<end] } ?? b[end..<end]

        self.scheme = String(decoding: scheme, as: UTF8.self)
        self.hostHeader = Self.hostHeader(authority: authority, scheme: self.scheme)
        self.path = rawPath.isEmpty ? "/" : String(decoding: rawPath, as: UTF8.self)
        self.query = String(decoding: rawQuery, as: UTF8.self)
    }

    private static func find(_ needle: [UInt8], in haystack: ArraySlice<UInt8>) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        var i = haystack.startIndex
        while i + needle.count <= haystack.endIndex {
            if haystack[i..<(i + needle.count)].elementsEqual(needle) { return i }
            i += 1
        }
        return nil
    }

    /// ASCII letters lower-cased (host names and schemes are ASCII; any
    /// other byte is kept as it is).
    private static func lowercased(_ bytes: ArraySlice<UInt8>) -> [UInt8] {
        bytes.map { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") ? $0 | 0x20 : $0 }
    }

    private static func hostHeader(authority: ArraySlice<UInt8>, scheme: String) -> String {
        // The port follows the last colon, unless that colon is inside an IPv6 literal.
        guard let colon = authority.lastIndex(of: UInt8(ascii: ":")),
              !authority[colon...].contains(UInt8(ascii: "]")) else {
            return String(decoding: lowercased(authority), as: UTF8.self)
        }
        let host = String(decoding: lowercased(authority[..<colon]), as: UTF8.self)
        let port = String(decoding: authority[(colon + 1)...], as: UTF8.self)
        let defaultPort = scheme == "https" ? "443" : scheme == "http" ? "80" : nil
        if port.isEmpty || port == defaultPort { return host }
        return "\(host):\(port)"
    }
}
