/// The canonicalization rules of SigV4: path, query string and headers.
/// Each is a pure function of its input, so each is tested on its own.
extension SigV4Signer {
    /// The canonical URI for a path as it appears in the request URL.
    ///
    /// With ``Options/normalizePath`` dot segments are removed and empty
    /// segments (`//`) collapsed first. With ``Options/doubleURIEncode`` the
    /// path is then URI-encoded once more (the wire path is already encoded,
    /// so the result is encoded twice, as every service but S3 expects);
    /// without it the path is used as written.
    public func canonicalURI(_ path: String) -> String {
        var result = path.isEmpty ? "/" : path
        if options.normalizePath { result = Self.normalizedPath(result) }
        if options.doubleURIEncode { result = Self.uriEncode(result, encodeSlash: false) }
        return result
    }

    /// Removes `.` and `..` segments (RFC 3986 section 5.2.4) and empty
    /// segments. The result starts with `/`, and ends with `/` when the input
    /// named a directory (a trailing `/`, `.` or `..`) and is not the root.
    public static func normalizedPath(_ path: String) -> String {
        var kept: [Substring] = []
        var endsAsDirectory = false
        for segment in path.split(separator: "/", omittingEmptySubsequences: true) {
            switch segment {
            case ".":
                endsAsDirectory = true
            case "..":
                _ = kept.popLast()
                endsAsDirectory = true
            default:
                kept.append(segment)
                endsAsDirectory = false
            }
        }
        if path.hasSuffix("/") { endsAsDirectory = true }
        if kept.isEmpty { return "/" }
        return "/" + kept.joined(separator: "/") + (endsAsDirectory ? "/" : "")
    }

    /// The canonical query string: every `key=value` pair percent-decoded,
    /// then encoded with ``uriEncode(_:encodeSlash:)``, sorted by encoded key
    /// and then encoded value (byte order), joined with `&`. A parameter
    /// without `=` has an empty value; empty parameters (`a=1&&b=2`) vanish.
    public static func canonicalQueryString(_ rawQuery: String) -> String {
        if rawQuery.isEmpty { return "" }
        var pairs: [(key: String, value: String)] = []
        for parameter in rawQuery.utf8.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) {
            let key: Substring.UTF8View.SubSequence
            let value: Substring.UTF8View.SubSequence
            if let equals = parameter.firstIndex(of: UInt8(ascii: "=")) {
                key = parameter[..<equals]
                value = parameter[parameter.index(after: equals)...]
            } else {
                key = parameter
                value = parameter[parameter.endIndex...]
            }
            pairs.append((uriEncode(bytes: percentDecode(key), encodeSlash: true),
                          uriEncode(bytes: percentDecode(value), encodeSlash: true)))
        }
        pairs.sort { lhs, rhs in
            if lhs.key != rhs.key { return lhs.key.utf8.lexicographicallyPrecedes(rhs.key.utf8) }
            return lhs.value.utf8.lexicographicallyPrecedes(rhs.value.utf8)
        }
        return pairs.map { "\($0.key)=\($0.value)" }.joined(separator: "&")
    }

    /// Canonical headers and the signed-headers list.
    ///
    /// Names are lower-cased and sorted (byte order). Each value is trimmed
    /// and every run of whitespace inside it (spaces, tabs, and the line
    /// breaks of a folded multi-line value) becomes one space. Repeated
    /// headers become one line whose values are joined with `,` in the order
    /// they appear.
    ///
    /// - Returns: `canonical` ends with a newline after the last header, as
    ///   the canonical request needs; `signed` is `name;name;...`.
    public static func canonicalHeaders(_ headers: [(name: String, value: String)]) -> (canonical: String, signed: String) {
        var order: [String] = []
        var values: [String: [String]] = [:]
        for header in headers {
            let name = header.name.lowercased()
            if values[name] == nil { order.append(name) }
            values[name, default: []].append(trimmedHeaderValue(header.value))
        }
        order.sort { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        var canonical = ""
        for name in order {
            canonical += name
            canonical += ":"
            canonical += values[name, default: []].joined(separator: ",")
            canonical += "\n"
        }
        return (canonical, order.joined(separator: ";"))
    }

    /// Trims `value` and collapses each run of whitespace inside it to one space.
    public static func trimmedHeaderValue(_ value: String) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(value.utf8.count)
        var pendingSpace = false
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"):
                pendingSpace = !out.isEmpty
            default:
                if pendingSpace { out.append(UInt8(ascii: " ")); pendingSpace = false }
                out.append(byte)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// RFC 3986 percent-encoding as SigV4 defines it: `A-Z a-z 0-9 - _ . ~`
    /// stay, every other byte of the UTF-8 form becomes `%XX` (upper-case
    /// hex). `/` stays unless `encodeSlash` is set.
    public static func uriEncode(_ text: String, encodeSlash: Bool) -> String {
        uriEncode(bytes: text.utf8, encodeSlash: encodeSlash)
    }

    static func uriEncode<Bytes: Sequence>(bytes: Bytes, encodeSlash: Bool) -> String where Bytes.Element == UInt8 {
        let hex: [UInt8] = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.underestimatedCount)
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
                out.append(byte)
            case UInt8(ascii: "/") where !encodeSlash:
                out.append(byte)
            default:
                out.append(UInt8(ascii: "%"))
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0x0F)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes `%XX` escapes; a `%` not followed by two hex digits stays as
    /// it is (and is encoded as `%25` later). `+` is not a space here.
    static func percentDecode<Bytes: Collection>(_ bytes: Bytes) -> [UInt8] where Bytes.Element == UInt8 {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = bytes.startIndex
        while index != bytes.endIndex {
            let byte = bytes[index]
            if byte == UInt8(ascii: "%") {
                let first = bytes.index(after: index)
                if first != bytes.endIndex {
                    let second = bytes.index(after: first)
                    if second != bytes.endIndex, let high = hexValue(bytes[first]), let low = hexValue(bytes[second]) {
                        out.append(high << 4 | low)
                        index = bytes.index(after: second)
                        continue
                    }
                }
            }
            out.append(byte)
            index = bytes.index(after: index)
        }
        return out
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
