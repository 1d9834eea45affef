#if canImport(Glibc)
import Glibc
#endif
import DynamoModel
import Synchronization

/// Changes the target refused for good (too large, invalid), one JSON line
/// each: where the change came from, the item's key, and why. The shard
/// moves on; nothing is dropped in silence. Lines are appended and synced
/// before the change counts as handled.
public final class DeadLetterFile: Sendable {
    public let path: String
    private let fd: Mutex<Int32>

    public init(path: String) throws(StateFileError) {
        self.path = path
        let opened = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o640)
        guard opened >= 0 else { throw StateFileError(path: path, action: "open", errno: errno) }
        fd = Mutex(opened)
    }

    deinit { fd.withLock { _ = close($0) } }

    /// Appends one line: `{"source":…,"sequence":…,"kind":…,"keys":{…},"reason":…}`.
    public func record(_ change: Change, reason: String) throws(StateFileError) {
        try record(origin: change.origin, kind: "\(change.kind)", keys: change.key.attributes, reason: reason)
    }

    /// Appends one line for something that never became a change (a stream
    /// record whose bytes are malformed): keys only when they could be read.
    public func record(origin: Change.Origin?, kind: String, keys: Item?, reason: String) throws(StateFileError) {
        var w = DynamoJSONWriter(capacity: 256)
        w.beginObject()
        if let origin {
            w.writeKey("source"); w.writeString(origin.source)
            w.writeKey("sequence"); w.writeString(origin.sequence.digits)
        }
        w.writeKey("kind"); w.writeString(kind)
        if let keys { w.writeKey("keys"); w.writeItem(keys) }
        w.writeKey("reason"); w.writeString(reason)
        w.endObject()
        var line = w.bytes
        line.append(UInt8(ascii: "\n"))
        let failure: Int32? = fd.withLock { fd in
            let written = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if written != line.count { return errno }
            return fsync(fd) == 0 ? nil : errno
        }
        if let failure { throw StateFileError(path: path, action: "append to", errno: failure) }
    }
}
