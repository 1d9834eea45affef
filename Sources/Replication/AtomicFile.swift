#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Failure to write or read one of Ferry's state files.
public struct StateFileError: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var action: String
    public var reason: String
    public var description: String { "cannot \(action) \(path): \(reason)" }

    init(path: String, action: String, errno code: Int32) {
        self.path = path
        self.action = action
        self.reason = String(cString: strerror(code))
    }

    init(path: String, action: String, reason: String) {
        self.path = path
        self.action = action
        self.reason = reason
    }
}

/// Replaces a file so that a reader, or a restart after a crash or power
/// loss, sees either the old or the new content, never a mix: write a
/// temporary file beside it, fsync it, rename it over the old one, fsync
/// the directory so the rename itself is durable.
public enum AtomicFile {
    public static func write(_ bytes: [UInt8], to path: String, mode: mode_t = 0o640) throws(StateFileError) {
        let tmp = path + ".tmp"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw StateFileError(path: tmp, action: "create", errno: errno) }
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, bytes.count - offset) }
            if n < 0 {
                if errno == EINTR { continue }
                let code = errno
                close(fd)
                unlink(tmp)
                throw StateFileError(path: tmp, action: "write", errno: code)
            }
            offset += n
        }
        if fsync(fd) != 0 {
            let code = errno
            close(fd)
            unlink(tmp)
            throw StateFileError(path: tmp, action: "fsync", errno: code)
        }
        close(fd)
        guard rename(tmp, path) == 0 else {
            let code = errno
            unlink(tmp)
            throw StateFileError(path: path, action: "replace", errno: code)
        }
        let dir = directory(of: path)
        let dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd >= 0 {
            _ = fsync(dfd)
            close(dfd)
        }
    }

    /// The whole file, or nil when it does not exist (a first run).
    public static func read(_ path: String) throws(StateFileError) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw StateFileError(path: path, action: "open", errno: errno)
        }
        defer { close(fd) }
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress!, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw StateFileError(path: path, action: "read", errno: errno)
            }
            if n == 0 { break }
            out.append(contentsOf: buffer[0..<n])
        }
        return out
    }

    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}
