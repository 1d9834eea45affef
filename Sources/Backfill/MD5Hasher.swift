import CCrypto
import DynamoModel

/// Incremental MD5 (OpenSSL EVP), for the `md5Checksum` that
/// `manifest-files.json` gives for each compressed data file: the base64 of
/// the raw 16-byte digest.
///
///     let md5 = MD5Hasher()
///     md5.update(chunk)                       // as the bytes stream by
///     md5.finalBase64() == file.md5Checksum
///
/// One owner at a time; not `Sendable`.
public final class MD5Hasher {
    private let context: OpaquePointer
    private var finished = false

    /// A hasher over no bytes yet.
    public init() {
        guard let context = ferry_md5_new() else {
            // Only an allocation failure or a FIPS-only provider gets here.
            fatalError("OpenSSL cannot create an MD5 context")
        }
        self.context = context
    }

    deinit { ferry_md5_free(context) }

    /// Adds `bytes` to the digest.
    public func update(_ bytes: UnsafeRawBufferPointer) {
        precondition(!finished, "MD5Hasher used after final")
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        ferry_md5_update(context, base, bytes.count)
    }

    /// Adds `bytes` to the digest.
    public func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// The 16-byte digest; the hasher cannot be used afterwards.
    public func final() -> [UInt8] {
        precondition(!finished, "MD5Hasher.final called twice")
        finished = true
        var out = [UInt8](repeating: 0, count: 16)
        out.withUnsafeMutableBufferPointer { ferry_md5_final(context, $0.baseAddress) }
        return out
    }

    /// The digest in base64, as `manifest-files.json` writes it.
    public func finalBase64() -> String {
        Base64.encode(final())
    }

    /// The base64 MD5 of `bytes`, as `manifest-files.json` writes it.
    public static func base64Digest(of bytes: [UInt8]) -> String {
        let md5 = MD5Hasher()
        md5.update(bytes)
        return md5.finalBase64()
    }
}
