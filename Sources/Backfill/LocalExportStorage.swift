#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An export copied to a local directory (`aws s3 sync
/// s3://bucket/prefix/AWSDynamoDB/ ./exports/`), read with plain POSIX
/// calls in 64 KiB chunks.
public struct LocalExportStorage: ExportStorage {
    /// The export root: the directory holding `manifest-summary.json`.
    public let root: String
    /// Bytes per read; one buffer of this size lives while a file streams.
    public let chunkSize: Int

    /// Reads the export whose root directory is `root`.
    public init(root: String, chunkSize: Int = 64 << 10) {
        self.root = root
        self.chunkSize = max(1, chunkSize)
    }

    public func location(of key: String) -> String {
        root.hasSuffix("/") ? root + key : root + "/" + key
    }

    public func readAll(_ key: String, maxBytes: Int) throws -> [UInt8] {
        var out: [UInt8] = []
        try stream(key) { chunk in
            guard out.count + chunk.count <= maxBytes else {
                throw ExportError(.storageFailed, "the file is larger than \(maxBytes) bytes", file: location(of: key))
            }
            out.append(contentsOf: chunk)
        }
        return out
    }

    public func stream(_ key: String, onChunk: (UnsafeRawBufferPointer) throws -> Void) throws {
        let path = location(of: key)
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let code = errno
            throw ExportError(code == ENOENT ? .fileMissing : .storageFailed,
                              code == ENOENT ? "no such file" : "cannot open: \(Self.reason(code))", file: path)
        }
        defer { close(fd) }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let n = read(fd, buffer.baseAddress, chunkSize)
            if n < 0 {
                if errno == EINTR { continue }
                throw ExportError(.storageFailed, "cannot read: \(Self.reason(errno))", file: path)
            }
            if n == 0 { return }
            try onChunk(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
        }
    }

    private static func reason(_ code: Int32) -> String {
        String(cString: strerror(code))
    }
}
