/// Navigation over JSON already checked by ``JSONScanner``: it only finds
/// boundaries, so it can skip a value in one tight loop.
enum TrustedJSON {
    typealias Token = JSONScanner.StringToken

    @inline(__always)
    static func skipWhitespace(_ buf: UnsafeBufferPointer<UInt8>, _ i: Int) -> Int {
        var i = i
        while i < buf.count {
            let b = buf[i]
            guard b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 else { break }
            i += 1
        }
        return i
    }

    /// The content of the string whose opening quote is at `i`.
    static func stringToken(_ buf: UnsafeBufferPointer<UInt8>, at i: Int) -> Token {
        var j = i + 1
        var hasEscapes = false
        // Eight bytes at a time while none is a quote or a backslash (SWAR:
        // a byte equal to the pattern becomes zero, and the classic
        // (x - 0x01…) & ~x & 0x80… test finds a zero byte).
        let base = UnsafeRawPointer(buf.baseAddress!)
        let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
        let quotes: UInt64 = 0x2222_2222_2222_2222, backslashes: UInt64 = 0x5C5C_5C5C_5C5C_5C5C
        while j + 8 <= buf.count {
            let word = base.loadUnaligned(fromByteOffset: j, as: UInt64.self)
            let q = word ^ quotes, b = word ^ backslashes
            if ((q &- ones) & ~q & highs) | ((b &- ones) & ~b & highs) != 0 { break }
            j += 8
        }
        while true {
            let b = buf[j]
            if b == UInt8(ascii: "\"") { break }
            if b == UInt8(ascii: "\\") {
                hasEscapes = true
                j += 2
            } else {
                j += 1
            }
        }
        return Token(start: i + 1, end: j, hasEscapes: hasEscapes)
    }

    /// The position just past the value that starts at `i`.
    static func skipValue(_ buf: UnsafeBufferPointer<UInt8>, _ i: Int) -> Int {
        switch buf[i] {
        case UInt8(ascii: "\""):
            return stringToken(buf, at: i).end + 1
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            var depth = 0
            var j = i
            while true {
                let b = buf[j]
                if b == UInt8(ascii: "\"") {
                    j = stringToken(buf, at: j).end + 1
                    continue
                }
                if b == UInt8(ascii: "{") || b == UInt8(ascii: "[") {
                    depth += 1
                } else if b == UInt8(ascii: "}") || b == UInt8(ascii: "]") {
                    depth -= 1
                    if depth == 0 { return j + 1 }
                }
                j += 1
            }
        default:
            // Number or literal: runs to the next delimiter.
            var j = i + 1
            while j < buf.count {
                let b = buf[j]
                if b == UInt8(ascii: ",") || b == UInt8(ascii: "}") || b == UInt8(ascii: "]")
                    || b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 { break }
                j += 1
            }
            return j
        }
    }

    /// Calls `body(key, valueRange)` per member until it returns `false`.
    static func forEachMember(
        _ buf: UnsafeBufferPointer<UInt8>, objectAt start: Int, _ body: (Token, Range<Int>) throws -> Bool
    ) rethrows {
        var i = skipWhitespace(buf, start + 1)
        if buf[i] == UInt8(ascii: "}") { return }
        while true {
            let key = stringToken(buf, at: i)
            i = skipWhitespace(buf, key.end + 1) + 1  // past ':'
            let valueStart = skipWhitespace(buf, i)
            let valueEnd = skipValue(buf, valueStart)
            guard try body(key, valueStart..<valueEnd) else { return }
            i = skipWhitespace(buf, valueEnd)
            guard buf[i] == UInt8(ascii: ",") else { return }
            i = skipWhitespace(buf, i + 1)
        }
    }

    /// Calls `body(elementRange)` per element of the array at `start` until
    /// it returns `false`.
    static func forEachElement(
        _ buf: UnsafeBufferPointer<UInt8>, arrayAt start: Int, _ body: (Range<Int>) throws -> Bool
    ) rethrows {
        var i = skipWhitespace(buf, start + 1)
        if buf[i] == UInt8(ascii: "]") { return }
        while true {
            let end = skipValue(buf, i)
            guard try body(i..<end) else { return }
            i = skipWhitespace(buf, end)
            guard buf[i] == UInt8(ascii: ",") else { return }
            i = skipWhitespace(buf, i + 1)
        }
    }

    /// Whether a key's decoded content equals `utf8`.
    static func stringEquals(_ buf: UnsafeBufferPointer<UInt8>, _ token: Token, _ utf8: UnsafeBufferPointer<UInt8>) -> Bool {
        JSONScanner(buf, range: 0..<buf.count).stringEquals(token, utf8)
    }
}
