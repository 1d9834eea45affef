import CCrypto

/// SHA-256, HMAC-SHA256 and lower-case hex, backed by OpenSSL's libcrypto.
///
/// These are the only primitives SigV4 needs; they work on bytes so the
/// signer never round-trips a request body through `String`.
public enum Hashing {
    /// The SHA-256 digest (32 bytes) of `bytes`.
    public static func sha256<Bytes: Collection>(_ bytes: Bytes) -> [UInt8] where Bytes.Element == UInt8 {
        var digest = [UInt8](repeating: 0, count: 32)
        let done: Void? = bytes.withContiguousStorageIfAvailable { buffer in
            digest.withUnsafeMutableBufferPointer { out in
                ferry_sha256(buffer.baseAddress, buffer.count, out.baseAddress)
            }
        }
        if done == nil {
            let copy = Array(bytes)
            copy.withUnsafeBufferPointer { buffer in
                digest.withUnsafeMutableBufferPointer { out in
                    ferry_sha256(buffer.baseAddress, buffer.count, out.baseAddress)
                }
            }
        }
        return digest
    }

    /// The SHA-256 digest of the UTF-8 bytes of `text`.
    public static func sha256(_ text: String) -> [UInt8] {
        var text = text
        return text.withUTF8 { sha256($0) }
    }

    /// Lower-case hex of the SHA-256 digest of `bytes` (64 characters).
    public static func sha256Hex<Bytes: Collection>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        hex(sha256(bytes))
    }

    /// Lower-case hex of the SHA-256 digest of the UTF-8 bytes of `text`.
    public static func sha256Hex(_ text: String) -> String {
        hex(sha256(text))
    }

    /// HMAC-SHA256 of `data` under `key` (32 bytes).
    public static func hmacSHA256(key: [UInt8], data: [UInt8]) -> [UInt8] {
        var mac = [UInt8](repeating: 0, count: 32)
        key.withUnsafeBufferPointer { k in
            data.withUnsafeBufferPointer { d in
                mac.withUnsafeMutableBufferPointer { out in
                    ferry_hmac_sha256(k.baseAddress, k.count, d.baseAddress, d.count, out.baseAddress)
                }
            }
        }
        return mac
    }

    /// HMAC-SHA256 of the UTF-8 bytes of `text` under `key`.
    public static func hmacSHA256(key: [UInt8], data text: String) -> [UInt8] {
        hmacSHA256(key: key, data: Array(text.utf8))
    }

    /// Lower-case hexadecimal, two characters per byte.
    public static func hex<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.underestimatedCount * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// SHA-256 of the empty string, the payload hash of every bodiless request.
    public static let emptySHA256Hex = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
}
