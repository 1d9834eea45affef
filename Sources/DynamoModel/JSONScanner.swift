/// The byte-level JSON tokenizer under every reader in this module.
///
/// It walks a buffer with an index, never copies, and checks everything that
/// RFC 8259 requires: structure, string escapes (including surrogate pairs),
/// no raw control characters, well-formed UTF-8, number grammar, and a
/// nesting limit so hostile input cannot exhaust a (small, Dispatch) thread
/// stack. Offsets in errors are absolute positions in `buf`.
///
/// Callers drive it token by token: `beginObject()`/`nextObjectKey(_:)`,
/// `beginArray()`/`nextArrayElement(_:)`, `scanString()`, `scanNumber()`,
/// `skipValue()`. Every method expects `pos` at the start of its token with
/// whitespace already skipped, except where it says otherwise.
struct JSONScanner {
    /// Deepest nesting of objects and arrays accepted. DynamoDB allows 32
    /// levels of attribute nesting, which is 64 JSON levels plus a few for
    /// an envelope such as a GetRecords response.
    static let maxDepth = 128

    let buf: UnsafeBufferPointer<UInt8>
    var pos: Int
    let end: Int
    var depth = 0
    /// Members of the maps being read, as a stack shared by all nesting
    /// levels: a map's members are collected here and then moved into a
    /// dictionary of the right size, which avoids the regrowing (and
    /// rehashing of every key) that inserting one by one costs.
    var pendingMembers: [(String, AttributeValue)] = []

    init(_ buf: UnsafeBufferPointer<UInt8>, range: Range<Int>) {
        precondition(range.lowerBound >= 0 && range.upperBound <= buf.count, "range outside the buffer")
        self.buf = buf
        self.pos = range.lowerBound
        self.end = range.upperBound
    }

    /// A string's content (between the quotes) as positions in `buf`.
    struct StringToken {
        var start: Int
        var end: Int
        /// Whether the content holds a backslash escape, so it must be decoded
        /// before use; without escapes the raw bytes are the string.
        var hasEscapes: Bool
        var count: Int { end - start }
    }

    // MARK: - Errors

    // Reasons are `StaticString` so that the hot path never builds a
    // `String` for an error it does not throw, and so that no input data
    // can end up in a reason.

    func syntaxError(_ reason: StaticString, at offset: Int? = nil) -> DynamoJSONError {
        DynamoJSONError(.invalidJSON, at: offset ?? pos, "\(reason)")
    }

    func itemError(_ reason: StaticString, at offset: Int) -> DynamoJSONError {
        DynamoJSONError(.invalidItem, at: offset, "\(reason)")
    }

    /// The error for `pos`: end of input, or an unexpected byte.
    func unexpected(_ reason: StaticString) -> DynamoJSONError {
        pos >= end ? syntaxError("unexpected end of input", at: end) : syntaxError(reason)
    }

    // MARK: - Whitespace and punctuation

    @inline(__always)
    mutating func skipWhitespace() {
        while pos < end {
            let b = buf[pos]
            // Space, \t, \n, \r.
            guard b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 else { return }
            pos += 1
        }
    }

    /// The byte at `pos`, or `nil` at the end.
    @inline(__always)
    var current: UInt8? { pos < end ? buf[pos] : nil }

    /// After a complete value: only whitespace may follow.
    mutating func expectEnd() throws {
        skipWhitespace()
        guard pos == end else { throw syntaxError("unexpected data after the value") }
    }

    @inline(__always)
    mutating func enterContainer() throws {
        depth += 1
        guard depth <= JSONScanner.maxDepth else { throw syntaxError("nesting too deep") }
    }

    /// Consumes `{`; the object's members follow through `nextObjectKey`.
    @inline(__always)
    mutating func beginObject() throws {
        guard current == UInt8(ascii: "{") else { throw unexpected("expected '{'") }
        try enterContainer()
        pos += 1
    }

    /// Moves to the next member of the object begun with `beginObject()`:
    /// returns its key with `pos` at the value (whitespace skipped), or `nil`
    /// after consuming the closing `}`. `first` starts `true` per object.
    mutating func nextObjectKey(_ first: inout Bool) throws -> StringToken? {
        skipWhitespace()
        if current == UInt8(ascii: "}") && first {
            pos += 1
            depth -= 1
            return nil
        }
        if !first {
            if current == UInt8(ascii: "}") {
                pos += 1
                depth -= 1
                return nil
            }
            guard current == UInt8(ascii: ",") else { throw unexpected("expected ',' or '}'") }
            pos += 1
            skipWhitespace()
        }
        first = false
        guard current == UInt8(ascii: "\"") else { throw unexpected("expected a string key") }
        let key = try scanString()
        skipWhitespace()
        guard current == UInt8(ascii: ":") else { throw unexpected("expected ':'") }
        pos += 1
        skipWhitespace()
        return key
    }

    /// Consumes `[`; the elements follow through `nextArrayElement`.
    @inline(__always)
    mutating func beginArray() throws {
        guard current == UInt8(ascii: "[") else { throw unexpected("expected '['") }
        try enterContainer()
        pos += 1
    }

    /// Moves to the next element of the array begun with `beginArray()`:
    /// returns `true` with `pos` at the element (whitespace skipped), or
    /// `false` after consuming the closing `]`.
    mutating func nextArrayElement(_ first: inout Bool) throws -> Bool {
        skipWhitespace()
        if current == UInt8(ascii: "]") {
            pos += 1
            depth -= 1
            return false
        }
        if !first {
            guard current == UInt8(ascii: ",") else { throw unexpected("expected ',' or ']'") }
            pos += 1
            skipWhitespace()
            // `[1,]` is not JSON.
            guard current != UInt8(ascii: "]") else { throw syntaxError("expected a value") }
        }
        first = false
        guard pos < end else { throw unexpected("expected a value") }
        return true
    }

    // MARK: - Scalars

    /// Scans a string starting at its opening quote and returns its content.
    mutating func scanString() throws -> StringToken {
        guard current == UInt8(ascii: "\"") else { throw unexpected("expected a string") }
        // Locals rather than `self.pos`: stores through `inout self` in the
        // loop would go to memory on every byte.
        let buf = self.buf
        let end = self.end
        var p = pos + 1
        let start = p
        var hasEscapes = false
        while true {
            // Eight bytes at a time while none is special (a quote, a
            // backslash, a control character or non-ASCII). False alarms are
            // harmless: the byte loop below decides.
            if let base = buf.baseAddress {
                while p + 8 <= end {
                    let v = UnsafeRawPointer(base + p).loadUnaligned(as: UInt64.self)
                    let quote = v ^ 0x2222_2222_2222_2222
                    let backslash = v ^ 0x5C5C_5C5C_5C5C_5C5C
                    let special = v
                        | ((v &- 0x2020_2020_2020_2020) & ~v)
                        | ((quote &- 0x0101_0101_0101_0101) & ~quote)
                        | ((backslash &- 0x0101_0101_0101_0101) & ~backslash)
                    guard special & 0x8080_8080_8080_8080 == 0 else { break }
                    p += 8
                }
            }
            while p < end {
                let b = buf[p]
                guard b &- 0x20 < 0x60, b != UInt8(ascii: "\""), b != UInt8(ascii: "\\") else { break }
                p += 1
            }
            guard p < end else { throw syntaxError("unterminated string", at: end) }
            let b = buf[p]
            if b == UInt8(ascii: "\"") { break }
            pos = p
            if b == UInt8(ascii: "\\") {
                hasEscapes = true
                try scanEscape()
            } else if b < 0x20 {
                throw syntaxError("control character in string")
            } else {
                try scanUTF8Sequence()
            }
            p = pos
        }
        pos = p + 1
        return StringToken(start: start, end: p, hasEscapes: hasEscapes)
    }

    /// Checks one escape sequence at `pos` (a backslash) and moves past it.
    private mutating func scanEscape() throws {
        let start = pos
        guard pos + 1 < end else { throw syntaxError("unterminated string", at: end) }
        switch buf[pos + 1] {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"),
             UInt8(ascii: "f"), UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
            pos += 2
        case UInt8(ascii: "u"):
            guard let unit = hex4(at: pos + 2) else { throw syntaxError("invalid \\u escape", at: start) }
            pos += 6
            if unit >= 0xDC00 && unit <= 0xDFFF {
                throw syntaxError("unpaired surrogate in \\u escape", at: start)
            }
            if unit >= 0xD800 && unit <= 0xDBFF {
                guard pos + 1 < end, buf[pos] == UInt8(ascii: "\\"), buf[pos + 1] == UInt8(ascii: "u"),
                      let low = hex4(at: pos + 2), low >= 0xDC00 && low <= 0xDFFF
                else { throw syntaxError("unpaired surrogate in \\u escape", at: start) }
                pos += 6
            }
        default:
            throw syntaxError("invalid escape", at: start)
        }
    }

    /// The value of four hex digits at `i`, or `nil`.
    func hex4(at i: Int) -> UInt32? {
        guard i + 4 <= end else { return nil }
        var value: UInt32 = 0
        for k in i..<(i + 4) {
            let b = buf[k]
            let digit: UInt8
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = b - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = b - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = b - UInt8(ascii: "A") + 10
            default: return nil
            }
            value = value << 4 | UInt32(digit)
        }
        return value
    }

    /// Checks one multi-byte UTF-8 sequence at `pos` (RFC 3629: no overlong
    /// forms, no surrogates, nothing above U+10FFFF) and moves past it.
    private mutating func scanUTF8Sequence() throws {
        let lead = buf[pos]
        var length: Int
        var low: UInt8 = 0x80
        var high: UInt8 = 0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; low = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; high = 0x9F
        case 0xF0: length = 4; low = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; high = 0x8F
        default: throw syntaxError("invalid UTF-8")
        }
        guard pos + length <= end else { throw syntaxError("invalid UTF-8") }
        let second = buf[pos + 1]
        guard second >= low && second <= high else { throw syntaxError("invalid UTF-8") }
        var k = 2
        while k < length {
            guard buf[pos + k] & 0xC0 == 0x80 else { throw syntaxError("invalid UTF-8") }
            k += 1
        }
        pos += length
    }

    /// Scans a JSON number and returns its text range.
    mutating func scanNumber() throws -> Range<Int> {
        let start = pos
        if current == UInt8(ascii: "-") { pos += 1 }
        guard let first = current, first &- 0x30 < 10 else { throw unexpected("invalid number") }
        pos += 1
        if first != UInt8(ascii: "0") { skipDigits() }
        if current == UInt8(ascii: ".") {
            pos += 1
            guard let d = current, d &- 0x30 < 10 else { throw unexpected("invalid number") }
            skipDigits()
        }
        if let e = current, e | 0x20 == UInt8(ascii: "e") {
            pos += 1
            if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { pos += 1 }
            guard let d = current, d &- 0x30 < 10 else { throw unexpected("invalid number") }
            skipDigits()
        }
        return start..<pos
    }

    @inline(__always)
    private mutating func skipDigits() {
        while pos < end, buf[pos] &- 0x30 < 10 { pos += 1 }
    }

    /// Scans `true` or `false` and returns it.
    mutating func scanBool() throws -> Bool {
        if matchLiteral("true") { return true }
        if matchLiteral("false") { return false }
        throw unexpected("expected true or false")
    }

    /// Consumes `literal` if it is next.
    mutating func matchLiteral(_ literal: StaticString) -> Bool {
        let n = literal.utf8CodeUnitCount
        guard pos + n <= end else { return false }
        let p = literal.utf8Start
        for k in 0..<n where buf[pos + k] != p[k] { return false }
        pos += n
        return true
    }

    // MARK: - Skipping

    /// Skips one complete value of any kind, checking it fully.
    mutating func skipValue() throws {
        guard let b = current else { throw unexpected("expected a value") }
        switch b {
        case UInt8(ascii: "\""):
            _ = try scanString()
        case UInt8(ascii: "{"):
            try beginObject()
            var first = true
            while try nextObjectKey(&first) != nil { try skipValue() }
        case UInt8(ascii: "["):
            try beginArray()
            var first = true
            while try nextArrayElement(&first) { try skipValue() }
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            _ = try scanNumber()
        case UInt8(ascii: "t"), UInt8(ascii: "f"):
            _ = try scanBool()
        case UInt8(ascii: "n"):
            guard matchLiteral("null") else { throw syntaxError("expected a value") }
        default:
            throw syntaxError("expected a value")
        }
    }
}

extension JSONScanner {
    /// Runs `body` with a scanner over `bytes[range]` (all of `bytes` when
    /// `range` is `nil`); offsets stay relative to the start of `bytes`.
    static func with<R>(_ bytes: [UInt8], range: Range<Int>?, _ body: (inout JSONScanner) throws -> R) throws -> R {
        try bytes.withUnsafeBufferPointer { buf in
            var scanner = JSONScanner(buf, range: range ?? 0..<buf.count)
            return try body(&scanner)
        }
    }

    /// Runs `body` with a scanner over raw memory.
    static func with<R>(_ bytes: UnsafeRawBufferPointer, _ body: (inout JSONScanner) throws -> R) throws -> R {
        let buf = bytes.assumingMemoryBound(to: UInt8.self)
        var scanner = JSONScanner(buf, range: 0..<buf.count)
        return try body(&scanner)
    }
}
