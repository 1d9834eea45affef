/// Just enough XML for S3's answers (ListObjectsV2 results and error
/// documents): flat elements whose text is wanted by tag name. S3 escapes
/// the five predefined entities and numeric references; no CDATA appears.
struct XMLScanner {
    let text: String

    init(_ bytes: [UInt8]) { text = String(decoding: bytes, as: UTF8.self) }

    /// The text of the first `<tag>…</tag>` inside `scope` (the whole document when nil).
    func first(_ tag: String, in scope: Substring? = nil) -> String? {
        elements(tag, in: scope).first.map { Self.unescape($0) }
    }

    /// The raw inner text of every `<tag>…</tag>` in `scope`, in order.
    func elements(_ tag: String, in scope: Substring? = nil) -> [Substring] {
        let doc = scope ?? Substring(text)
        let open = "<\(tag)>", close = "</\(tag)>"
        var out: [Substring] = []
        var rest = doc[...]
        while let start = rest.range(of: open) {
            guard let end = rest[start.upperBound...].range(of: close) else { break }
            out.append(rest[start.upperBound..<end.lowerBound])
            rest = rest[end.upperBound...]
        }
        return out
    }

    static func unescape(_ s: Substring) -> String {
        guard s.contains("&") else { return String(s) }
        var out = ""
        var i = s.startIndex
        while i < s.endIndex {
            let c = s[i]
            if c == "&", let semi = s[i...].firstIndex(of: ";") {
                let entity = s[s.index(after: i)..<semi]
                var replacement: String?
                switch entity {
                case "amp": replacement = "&"
                case "lt": replacement = "<"
                case "gt": replacement = ">"
                case "quot": replacement = "\""
                case "apos": replacement = "'"
                default:
                    if entity.hasPrefix("#x"), let v = UInt32(entity.dropFirst(2), radix: 16), let u = Unicode.Scalar(v) {
                        replacement = String(Character(u))
                    } else if entity.hasPrefix("#"), let v = UInt32(entity.dropFirst()), let u = Unicode.Scalar(v) {
                        replacement = String(Character(u))
                    }
                }
                if let replacement {
                    out += replacement
                    i = s.index(after: semi)
                    continue
                }
            }
            out.append(c)
            i = s.index(after: i)
        }
        return out
    }
}
