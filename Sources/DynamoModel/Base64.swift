/// Base64 with the standard alphabet (`A–Z a–z 0–9 + /`) and `=` padding,
/// the encoding of `B` and `BS` values in DynamoDB JSON.
///
/// Written here rather than taken from Foundation because the hot path
/// decodes straight out of a JSON buffer and validates without allocating.
/// Decoding is strict about the alphabet, length (a multiple of 4) and
/// padding (only at the end, at most two `=`); like DynamoDB it ignores the
/// unused low bits of the last character.
public enum Base64 {
    /// The base64 text of `bytes`.
    public static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        bytes.withUnsafeBufferPointer { append(encoding: $0, to: &out) }
        return String(decoding: out, as: UTF8.self)
    }

    /// The bytes encoded by `text`, or `nil` if it is not valid base64.
    public static func decode(_ text: String) -> [UInt8]? {
        var text = text
        return text.withUTF8 { decode($0) }
    }

    /// The number of bytes `text` decodes to, or `nil` if it is not valid base64.
    static func decodedCount(_ text: UnsafeBufferPointer<UInt8>) -> Int? {
        let n = text.count
        guard n % 4 == 0 else { return nil }
        if n == 0 { return 0 }
        var padding = 0
        if text[n - 1] == UInt8(ascii: "=") {
            padding = text[n - 2] == UInt8(ascii: "=") ? 2 : 1
        }
        return decodeTable.withUnsafeBufferPointer { table -> Int? in
            var bad: UInt8 = 0
            // OR-ing the table entries lets the loop run without a branch
            // per character; invalid characters map to 0x80.
            for i in 0..<(n - padding) { bad |= table[Int(text[i])] }
            return bad & 0x80 == 0 ? n / 4 * 3 - padding : nil
        }
    }

    /// Decodes `text`; `nil` if it is not valid base64.
    static func decode(_ text: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        guard let count = decodedCount(text) else { return nil }
        if count == 0 { return [] }
        return [UInt8](unsafeUninitializedCapacity: count) { out, initialized in
            decodeTable.withUnsafeBufferPointer { table in
                let n = text.count
                let padded = count < n / 4 * 3
                // Whole groups of four characters; a padded last group is
                // handled apart.
                let fullGroups = padded ? n / 4 - 1 : n / 4
                var i = 0
                var o = 0
                for _ in 0..<fullGroups {
                    let a = UInt32(table[Int(text[i])])
                    let b = UInt32(table[Int(text[i + 1])])
                    let c = UInt32(table[Int(text[i + 2])])
                    let d = UInt32(table[Int(text[i + 3])])
                    let v = a << 18 | b << 12 | c << 6 | d
                    out[o] = UInt8(truncatingIfNeeded: v >> 16)
                    out[o + 1] = UInt8(truncatingIfNeeded: v >> 8)
                    out[o + 2] = UInt8(truncatingIfNeeded: v)
                    i += 4
                    o += 3
                }
                if o < count {
                    let a = UInt32(table[Int(text[i])])
                    let b = UInt32(table[Int(text[i + 1])])
                    let v = a << 18 | b << 12
                    out[o] = UInt8(truncatingIfNeeded: v >> 16)
                    if o + 1 < count {
                        let c = UInt32(table[Int(text[i + 2])])
                        out[o + 1] = UInt8(truncatingIfNeeded: (v | c << 6) >> 8)
                    }
                }
            }
            initialized = count
        }
    }

    /// The length of the base64 text of `count` bytes.
    @inline(__always)
    static func encodedCount(_ count: Int) -> Int { (count + 2) / 3 * 4 }

    /// Appends the base64 text of `bytes` to `out`.
    static func append(encoding bytes: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
        let outCount = encodedCount(bytes.count)
        if outCount == 0 { return }
        let start = out.count
        out.append(contentsOf: repeatElement(0, count: outCount))
        out.withUnsafeMutableBufferPointer { dst in
            encode(bytes, into: dst.baseAddress! + start)
        }
    }

    /// Writes the base64 text of `bytes` (``encodedCount(_:)`` bytes) at `dst`.
    static func encode(_ bytes: UnsafeBufferPointer<UInt8>, into dst: UnsafeMutablePointer<UInt8>) {
        let n = bytes.count
        encodeAlphabet.withUnsafeBufferPointer { alphabet in
            var i = 0
            var o = 0
            while i + 3 <= n {
                let v = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2])
                dst[o] = alphabet[Int(v >> 18)]
                dst[o + 1] = alphabet[Int(v >> 12 & 0x3F)]
                dst[o + 2] = alphabet[Int(v >> 6 & 0x3F)]
                dst[o + 3] = alphabet[Int(v & 0x3F)]
                i += 3
                o += 4
            }
            let rest = n - i
            if rest > 0 {
                var v = UInt32(bytes[i]) << 16
                if rest == 2 { v |= UInt32(bytes[i + 1]) << 8 }
                dst[o] = alphabet[Int(v >> 18)]
                dst[o + 1] = alphabet[Int(v >> 12 & 0x3F)]
                dst[o + 2] = rest == 2 ? alphabet[Int(v >> 6 & 0x3F)] : UInt8(ascii: "=")
                dst[o + 3] = UInt8(ascii: "=")
            }
        }
    }

    private static let encodeAlphabet: [UInt8] =
        Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// Character → 6-bit value; 0x80 marks a character outside the alphabet
    /// (including `=`, which `decodedCount` strips from the end beforehand).
    private static let decodeTable: [UInt8] = {
        var table = [UInt8](repeating: 0x80, count: 256)
        for (value, char) in encodeAlphabet.enumerated() { table[Int(char)] = UInt8(value) }
        return table
    }()
}
