/// Reads the files of one export, by key relative to the export root (see
/// ``ExportLocation``): `manifest-summary.json`, `data/abc.json.gz`,
/// `../data/abc.json.gz`.
///
/// Failures are ``ExportError``s that name the file: `.fileMissing` when
/// it does not exist, `.storageFailed` otherwise. An error thrown by an
/// `onChunk` callback is passed through unchanged.
public protocol ExportStorage: Sendable {
    /// Where `key` is, for messages: `s3://bucket/prefix/…` or a path.
    func location(of key: String) -> String

    /// A small file whole (manifests), of at most `maxBytes`.
    func readAll(_ key: String, maxBytes: Int) throws -> [UInt8]

    /// Hands the file's bytes to `onChunk` piece by piece, in order, never
    /// holding the whole file. A failure after some chunks were delivered
    /// is thrown: the caller starts the file over.
    func stream(_ key: String, onChunk: (UnsafeRawBufferPointer) throws -> Void) throws
}

extension ExportStorage {
    /// A small file whole, of at most 64 MiB (a manifest of a very large
    /// export lists some ten thousand files of about 200 bytes each).
    public func readAll(_ key: String) throws -> [UInt8] {
        try readAll(key, maxBytes: 64 << 20)
    }
}

/// Joins a root and a relative key, applying `..` components, for
/// storages where the key is a plain string (S3).
func joinKey(root: String, _ key: String) -> String {
    var parts = root.split(separator: "/", omittingEmptySubsequences: false)
    if parts.last == "" { parts.removeLast() }
    for part in key.split(separator: "/", omittingEmptySubsequences: false) {
        if part == ".." {
            if !parts.isEmpty { parts.removeLast() }
        } else if part != "." {
            parts.append(part)
        }
    }
    return parts.joined(separator: "/")
}
