/// Turning a scanned string token into text: escapes are decoded only
/// when the token has any, and comparisons avoid building a `String`.
extension JSONScanner {
    /// Decodes a string's content into Swift text.
    func makeString(_ token: StringToken) -> String {
        let raw = UnsafeBufferPointer(rebasing: buf[token.start..<token.end])
        if !token.hasEscapes { return String(decoding: raw, as: UTF8.self) }
        // Escapes only ever shrink: the decoded text fits in the raw length.
        return String(unsafeUninitializedCapacity: token.count) { out in
            JSONScanner.unescape(raw, into: out)
        }
    }

    /// Calls `body` with the decoded UTF-8 bytes of a string, without
    /// allocating when the string has no escapes.
    func withDecodedBytes<R>(_ token: StringToken, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        let raw = UnsafeBufferPointer(rebasing: buf[token.start..<token.end])
        if !token.hasEscapes { return try body(raw) }
        return try withUnsafeTemporaryAllocation(of: UInt8.self, capacity: token.count) { out in
            let n = JSONScanner.unescape(raw, into: out)
            return try body(UnsafeBufferPointer(rebasing: out[0..<n]))
        }
    }

    /// Whether a string's decoded content equals `utf8`.
    func stringEquals(_ token: StringToken, _ utf8: UnsafeBufferPointer<UInt8>) -> Bool {
        if !token.hasEscapes {
            guard token.count == utf8.count else { return false }
            var i = 0
            while i < utf8.count {
                if buf[token.start + i] != utf8[i] { return false }
                i += 1
            }
            return true
        }
        return withDecodedBytes(token) { $0.elementsEqual(utf8) }
    }

    /// Decodes the escapes of already-validated string content; returns the
    /// number of bytes written.
    static func unescape(_ raw: UnsafeBufferPointer<UInt8>, into out: UnsafeMutableBufferPointer<UInt8>) -> Int {
        var i = 0
        var o = 0
        let n = raw.count
        while i < n {
            let b = raw[i]
            guard b == UInt8(ascii: "\\") else {
                out[o] = b
                o += 1
                i += 1
                continue
            }
            let c = raw[i + 1]
            i += 2
            switch c {
            case UInt8(ascii: "b"): out[o] = 0x08
            case UInt8(ascii: "f"): out[o] = 0x0C
            case UInt8(ascii: "n"): out[o] = 0x0A
            case UInt8(ascii: "r"): out[o] = 0x0D
            case UInt8(ascii: "t"): out[o] = 0x09
            case UInt8(ascii: "u"):
                var scalar = hexValue(raw, i)
                i += 4
                if scalar >= 0xD800 && scalar <= 0xDBFF {
                    let low = hexValue(raw, i + 2)
                    i += 6
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                }
                o += encodeUTF8(scalar, into: out, at: o)
                continue
            default: out[o] = c  // \" \\ \/
            }
            o += 1
        }
        return o
    }

    private static func hexValue(_ raw: UnsafeBufferPointer<UInt8>, _ i: Int) -> UInt32 {
        var value: UInt32 = 0
        for k in i..<(i + 4) {
            let b = raw[k]
            let digit = b <= UInt8(ascii: "9") ? b - UInt8(ascii: "0") : (b | 0x20) - UInt8(ascii: "a") + 10
            value = value << 4 | UInt32(digit)
        }
        return value
    }

    private static func encodeUTF8(_ s: UInt32, into out: UnsafeMutableBufferPointer<UInt8>, at o: Int) -> Int {
        switch s {
        case 0..<0x80:
            out[o] = UInt8(s)
            return 1
        case 0x80..<0x800:
            out[o] = UInt8(0xC0 | s >> 6)
            out[o + 1] = UInt8(0x80 | s & 0x3F)
            return 2
        case 0x800..<0x10000:
            out[o] = UInt8(0xE0 | s >> 12)
            out[o + 1] = UInt8(0x80 | s >> 6 & 0x3F)
            out[o + 2] = UInt8(0x80 | s & 0x3F)
            return 3
        default:
            out[o] = UInt8(0xF0 | s >> 18)
            out[o + 1] = UInt8(0x80 | s >> 12 & 0x3F)
            out[o + 2] = UInt8(0x80 | s >> 6 & 0x3F)
            out[o + 3] = UInt8(0x80 | s & 0x3F)
            return 4
        }
    }
}
