#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// Where a ``Verifier`` puts the mismatches it finds.
public protocol MismatchSink: Sendable {
    func record(_ mismatch: Mismatch) throws(VerifyError)
}

/// The JSON-lines mismatch report (`--report`, default
/// `ferry-verify-mismatches.jsonl`): one ``Mismatch/jsonLine(includeValues:)``
/// per line, written as found. The file is created (or emptied) at start,
/// so an empty file is the evidence of a clean run; it is readable by its
/// owner only (mode 0600) because keys, and with `includeValues` attribute
/// values, are data.
public final class MismatchReportFile: MismatchSink {
    public let path: String
    public let includeValues: Bool
    private let descriptor: Mutex<Int32>

    public init(path: String, includeValues: Bool) throws(VerifyError) {
        self.path = path
        self.includeValues = includeValues
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .report(path: path, detail: String(cString: strerror(errno))) }
        descriptor = Mutex(fd)
    }

    deinit {
        descriptor.withLock { fd in
            if fd >= 0 { close(fd) }
        }
    }

    public func record(_ mismatch: Mismatch) throws(VerifyError) {
        var line = mismatch.jsonLine(includeValues: includeValues)
        line.append(UInt8(ascii: "\n"))
        let failure: String? = descriptor.withLock { fd in
            var offset = 0
            while offset < line.count {
                let written = line.withUnsafeBytes { write(fd, $0.baseAddress! + offset, line.count - offset) }
                if written < 0 {
                    if errno == EINTR { continue }
                    return String(cString: strerror(errno))
                }
                offset += written
            }
            return nil
        }
        if let failure { throw .report(path: path, detail: failure) }
    }

    /// Flushes the report to disk and closes it.
    public func finish() throws(VerifyError) {
        let failure: String? = descriptor.withLock { fd in
            guard fd >= 0 else { return nil }
            defer { fd = -1 }
            if fsync(fd) != 0 && errno != EINVAL { return String(cString: strerror(errno)) }
            return close(fd) == 0 ? nil : String(cString: strerror(errno))
        }
        if let failure { throw .report(path: path, detail: failure) }
    }
}

/// Keeps mismatches in memory: for tests, and the benchmark.
public final class MismatchCollector: MismatchSink {
    private let found = Mutex<[Mismatch]>([])

    public init() {}

    public func record(_ mismatch: Mismatch) throws(VerifyError) {
        found.withLock { $0.append(mismatch) }
    }

    public var mismatches: [Mismatch] { found.withLock { $0 } }
}
