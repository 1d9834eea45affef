/// Writes ``Item`` and ``AttributeValue`` trees as DynamoDB JSON in two
/// passes: first the exact output size, then the bytes through a raw
/// pointer into space reserved once.
///
/// Why: appending to `[UInt8]` piece by piece costs a uniqueness and a
/// capacity check per append (dozens per item); measuring first makes the
/// writer several times faster. The two passes must agree byte for byte;
/// ``DynamoJSONWriter`` checks that they did after every write.
enum DynamoJSONEncoding {
    // The fixed openings of each attribute value; every value ends with `}`.
    static let openS: StaticString = #"{"S":"#
    static let openN: StaticString = #"{"N":"#
    static let openB: StaticString = #"{"B":"#
    static let boolTrue: StaticString = #"{"BOOL":true}"#
    static let boolFalse: StaticString = #"{"BOOL":false}"#
    static let null: StaticString = #"{"NULL":true}"#
    static let openM: StaticString = #"{"M":"#
    static let openL: StaticString = #"{"L":["#
    static let openSS: StaticString = #"{"SS":["#
    static let openNS: StaticString = #"{"NS":["#
    static let openBS: StaticString = #"{"BS":["#

    // MARK: - Sizes

    static func size(ofItem item: Item, sorted: Bool) -> Int {
        var n = 2 + max(0, item.count - 1)  // braces and commas
        for (name, value) in item {
            n += quotedSize(name) + 1 + size(of: value, sorted: sorted)
        }
        return n
    }

    static func size(of value: AttributeValue, sorted: Bool) -> Int {
        switch value {
        case .s(let s): return openS.utf8CodeUnitCount + quotedSize(s) + 1
        case .n(let n): return openN.utf8CodeUnitCount + quotedSize(n) + 1
        case .b(let b): return openB.utf8CodeUnitCount + 2 + Base64.encodedCount(b.count) + 1
        case .bool(let v): return v ? boolTrue.utf8CodeUnitCount : boolFalse.utf8CodeUnitCount
        case .null: return null.utf8CodeUnitCount
        case .m(let map): return openM.utf8CodeUnitCount + size(ofItem: map, sorted: sorted) + 1
        case .l(let list):
            var n = openL.utf8CodeUnitCount + max(0, list.count - 1) + 2
            for element in list { n += size(of: element, sorted: sorted) }
            return n
        case .ss(let set):
            var n = openSS.utf8CodeUnitCount + max(0, set.count - 1) + 2
            for element in set { n += quotedSize(element) }
            return n
        case .ns(let set):
            var n = openNS.utf8CodeUnitCount + max(0, set.count - 1) + 2
            for element in set { n += quotedSize(element) }
            return n
        case .bs(let set):
            var n = openBS.utf8CodeUnitCount + max(0, set.count - 1) + 2
            for element in set { n += 2 + Base64.encodedCount(element.count) }
            return n
        }
    }

    /// The size of `s` as a quoted, escaped JSON string.
    static func quotedSize(_ s: String) -> Int {
        withUTF8(s) { utf8 in
            var size = utf8.count + 2
            var i = nextEscapeIndex(utf8, from: 0)
            while i < utf8.count {
                size += escapeLength(utf8[i]) - 1
                i = nextEscapeIndex(utf8, from: i + 1)
            }
            return size
        }
    }

    /// The index of the first byte at or after `start` that a JSON string
    /// must escape (a control character, `"` or `\`), or `utf8.count`.
    /// Looks at eight bytes at a time; a word that might hold one is then
    /// checked byte by byte, so false alarms cost little.
    @inline(__always)
    static func nextEscapeIndex(_ utf8: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
        let n = utf8.count
        var i = start
        while true {
            if let base = utf8.baseAddress {
                while i + 8 <= n {
                    let v = UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)
                    let quote = v ^ 0x2222_2222_2222_2222
                    let backslash = v ^ 0x5C5C_5C5C_5C5C_5C5C
                    let special = ((v &- 0x2020_2020_2020_2020) & ~v)
                        | ((quote &- 0x0101_0101_0101_0101) & ~quote)
                        | ((backslash &- 0x0101_0101_0101_0101) & ~backslash)
                    if special & 0x8080_8080_8080_8080 != 0 { break }
                    i += 8
                }
            }
            let stop = min(i + 8, n)
            while i < stop {
                let b = utf8[i]
                if b < 0x20 || b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") { return i }
                i += 1
            }
            if i >= n { return n }
        }
    }

    /// The length of the escape for a byte that needs one: `\n` or `\u00XX`.
    @inline(__always)
    static func escapeLength(_ b: UInt8) -> Int {
        switch b {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), 0x08, 0x0C, 0x0A, 0x0D, 0x09: 2
        default: 6
        }
    }

    // MARK: - Writing

    static func write(item: Item, sorted: Bool, to out: inout ByteCursor) {
        out.put(UInt8(ascii: "{"))
        var first = true
        if sorted {
            for name in item.keys.sorted() {
                writeMember(name, item[name]!, sorted, &first, &out)
            }
        } else {
            for (name, value) in item {
                writeMember(name, value, sorted, &first, &out)
            }
        }
        out.put(UInt8(ascii: "}"))
    }

    @inline(__always)
    private static func writeMember(
        _ name: String, _ value: AttributeValue, _ sorted: Bool, _ first: inout Bool, _ out: inout ByteCursor
    ) {
        if !first { out.put(UInt8(ascii: ",")) }
        first = false
        out.putQuoted(name)
        out.put(UInt8(ascii: ":"))
        write(value, sorted: sorted, to: &out)
    }

    static func write(_ value: AttributeValue, sorted: Bool, to out: inout ByteCursor) {
        switch value {
        case .s(let s):
            out.put(openS)
            out.putQuoted(s)
            out.put(UInt8(ascii: "}"))
        case .n(let n):
            out.put(openN)
            out.putQuoted(n)
            out.put(UInt8(ascii: "}"))
        case .b(let b):
            out.put(openB)
            out.putBase64(b)
            out.put(UInt8(ascii: "}"))
        case .bool(let v):
            out.put(v ? boolTrue : boolFalse)
        case .null:
            out.put(null)
        case .m(let map):
            out.put(openM)
            write(item: map, sorted: sorted, to: &out)
            out.put(UInt8(ascii: "}"))
        case .l(let list):
            out.put(openL)
            for (index, element) in list.enumerated() {
                if index > 0 { out.put(UInt8(ascii: ",")) }
                write(element, sorted: sorted, to: &out)
            }
            out.put(UInt8(ascii: "]"))
            out.put(UInt8(ascii: "}"))
        case .ss(let set):
            out.put(openSS)
            writeStrings(set, to: &out)
        case .ns(let set):
            out.put(openNS)
            writeStrings(set, to: &out)
        case .bs(let set):
            out.put(openBS)
            for (index, element) in set.enumerated() {
                if index > 0 { out.put(UInt8(ascii: ",")) }
                out.putBase64(element)
            }
            out.put(UInt8(ascii: "]"))
            out.put(UInt8(ascii: "}"))
        }
    }
}

extension DynamoJSONEncoding {
    /// Writes the members of a string or number set and closes it.
    static func writeStrings(_ set: [String], to out: inout ByteCursor) {
        for (index, element) in set.enumerated() {
            if index > 0 { out.put(UInt8(ascii: ",")) }
            out.putQuoted(element)
        }
        out.put(UInt8(ascii: "]"))
        out.put(UInt8(ascii: "}"))
    }
}

/// A write position in memory that was sized beforehand, so it checks
/// nothing; its owner verifies the final offset.
struct ByteCursor {
    let base: UnsafeMutablePointer<UInt8>
    var offset: Int

    @inline(__always)
    mutating func put(_ byte: UInt8) {
        base[offset] = byte
        offset += 1
    }

    @inline(__always)
    mutating func put(_ literal: StaticString) {
        put(UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount))
    }

    @inline(__always)
    mutating func put(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let source = bytes.baseAddress, !bytes.isEmpty else { return }
        UnsafeMutableRawPointer(base + offset).copyMemory(from: source, byteCount: bytes.count)
        offset += bytes.count
    }

    mutating func putQuoted(_ s: String) {
        withUTF8(s) { putQuoted(utf8: $0) }
    }

    /// Writes valid UTF-8 as a quoted JSON string; runs that need no escape
    /// (nearly always the whole string) are copied in one go.
    mutating func putQuoted(utf8: UnsafeBufferPointer<UInt8>) {
        put(UInt8(ascii: "\""))
        var runStart = 0
        var i = DynamoJSONEncoding.nextEscapeIndex(utf8, from: 0)
        while i < utf8.count {
            put(UnsafeBufferPointer(rebasing: utf8[runStart..<i]))
            putEscape(utf8[i])
            runStart = i + 1
            i = DynamoJSONEncoding.nextEscapeIndex(utf8, from: runStart)
        }
        put(UnsafeBufferPointer(rebasing: utf8[runStart..<utf8.count]))
        put(UInt8(ascii: "\""))
    }

    private mutating func putEscape(_ b: UInt8) {
        let short: UInt8
        switch b {
        case UInt8(ascii: "\""): short = UInt8(ascii: "\"")
        case UInt8(ascii: "\\"): short = UInt8(ascii: "\\")
        case 0x08: short = UInt8(ascii: "b")
        case 0x0C: short = UInt8(ascii: "f")
        case 0x0A: short = UInt8(ascii: "n")
        case 0x0D: short = UInt8(ascii: "r")
        case 0x09: short = UInt8(ascii: "t")
        default:
            let hex: StaticString = "0123456789abcdef"
            put(StaticString("\\u00"))
            put(hex.utf8Start[Int(b >> 4)])
            put(hex.utf8Start[Int(b & 0x0F)])
            return
        }
        put(UInt8(ascii: "\\"))
        put(short)
    }

    mutating func putBase64(_ bytes: [UInt8]) {
        put(UInt8(ascii: "\""))
        bytes.withUnsafeBufferPointer { Base64.encode($0, into: base + offset) }
        offset += Base64.encodedCount(bytes.count)
        put(UInt8(ascii: "\""))
    }
}

/// Runs `body` on the UTF-8 bytes of `s` without copying them when the
/// string is stored contiguously (always, for native Swift strings).
@inline(__always)
func withUTF8<R>(_ s: String, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
    if let result = s.utf8.withContiguousStorageIfAvailable(body) { return result }
    var copy = s
    return copy.withUTF8(body)
}
