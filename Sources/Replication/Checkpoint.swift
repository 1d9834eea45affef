import Foundation
import Synchronization

/// Ferry's progress, as stored between runs. Versioned JSON, bound to the
/// stream it belongs to: a checkpoint of another stream is refused.
public struct Checkpoint: Sendable, Codable, Equatable {
    public static let currentVersion = 1

    public struct ShardProgress: Sendable, Codable, Equatable {
        /// Every record at or below this sequence number has been applied.
        public var sequence: SequenceNumber?
        public var finished: Bool
        public init(sequence: SequenceNumber? = nil, finished: Bool = false) {
            self.sequence = sequence
            self.finished = finished
        }
    }

    /// Where reverse replication begins, as `ferry cutover` recorded it.
    ///
    /// One time for the whole stream, not a position per shard: records
    /// created before ``notBefore`` are never applied, whichever shard they
    /// are on, shards that appear later included, and however a shard is
    /// started or its iterator renewed (TRIM_HORIZON included). So it cannot
    /// fall back to replaying the forward daemon's writes.
    public struct Cutover: Sendable, Codable, Equatable {
        /// Records whose ApproximateCreationDateTime is earlier are skipped.
        /// A whole second: Alternator and DynamoDB round creation times
        /// down to the second, so a record written at or after this second
        /// is never mistaken for an earlier one.
        public var notBefore: Date
        /// When `ferry cutover` ran.
        public var at: Date
        /// The stream the forward daemon read (DynamoDB's).
        public var forwardStream: String?
        /// The forward daemon's status files: the way back does not start
        /// while they show it running (the two would bounce every change).
        public var forwardStatus: [String]?
        public init(notBefore: Date, at: Date, forwardStream: String?, forwardStatus: [String]? = nil) {
            self.notBefore = notBefore
            self.at = at
            self.forwardStream = forwardStream
            self.forwardStatus = forwardStatus
        }
    }

    public var version: Int
    public var streamArn: String?
    public var shards: [String: ShardProgress]
    public var updatedAt: Date?
    public var cutover: Cutover?

    public init(streamArn: String?, shards: [String: ShardProgress] = [:]) {
        self.version = Self.currentVersion
        self.streamArn = streamArn
        self.shards = shards
    }
}

/// Where checkpoints live. A file for one host today; a shared store (a
/// table written with conditional updates, one row per shard) lets several
/// hosts split a stream, behind the same calls: the replicator hands over
/// only the shards that changed (``CheckpointDelta``).
public protocol CheckpointStore: Sendable {
    func load(for streamArn: String) throws -> Checkpoint?
    func apply(_ delta: CheckpointDelta) throws
}

/// Errors about the checkpoint's content (not its file I/O).
public struct CheckpointError: Error, Sendable, CustomStringConvertible {
    public var description: String
}

/// The checkpoint as a local JSON file, replaced atomically on every save.
/// It keeps the document in memory and merges each delta into it.
public final class FileCheckpointStore: CheckpointStore {
    public let path: String
    private let document = Mutex<Checkpoint?>(nil)

    public init(path: String) { self.path = path }

    /// Merges the changed shards into the document and writes it.
    public func apply(_ delta: CheckpointDelta) throws {
        let next = try document.withLock { doc -> Checkpoint in
            var c = try doc ?? load() ?? Checkpoint(streamArn: delta.streamArn)
            c.streamArn = delta.streamArn
            for (id, progress) in delta.changed { c.shards[id] = progress }
            for id in delta.removed { c.shards[id] = nil }
            doc = c
            return c
        }
        try save(next)
    }

    public func load() throws -> Checkpoint? {
        guard let bytes = try AtomicFile.read(path) else { return nil }
        let checkpoint: Checkpoint
        do {
            checkpoint = try StateJSON.decoder.decode(Checkpoint.self, from: Data(bytes))
        } catch {
            throw CheckpointError(description: "checkpoint file \(path) is not a valid Ferry checkpoint (\(Self.reason(error))); "
                + "move it away to start over from the configured start position")
        }
        guard checkpoint.version <= Checkpoint.currentVersion else {
            throw CheckpointError(description: "checkpoint file \(path) has version \(checkpoint.version), "
                + "newer than this Ferry understands (\(Checkpoint.currentVersion)); upgrade Ferry")
        }
        return checkpoint
    }

    public func save(_ checkpoint: Checkpoint) throws {
        document.withLock { $0 = checkpoint }
        var copy = checkpoint
        copy.updatedAt = Date()
        let data = try StateJSON.encoder.encode(copy)
        try AtomicFile.write(Array(data), to: path)
    }

    /// Loads the checkpoint for `streamArn`: nil on a first run, an error
    /// when the file belongs to another stream.
    public func load(for streamArn: String) throws -> Checkpoint? {
        guard let checkpoint = try load() else { return nil }
        if let stored = checkpoint.streamArn, stored != streamArn {
            throw CheckpointError(description: "checkpoint file \(path) belongs to stream \(stored), not \(streamArn); "
                + "point `checkpoint` at another file, or remove this one to start that stream from scratch")
        }
        return checkpoint
    }


    static func reason(_ error: Error) -> String {
        switch error {
        case DecodingError.dataCorrupted(let c): return c.debugDescription
        case DecodingError.keyNotFound(let k, _): return "missing field '\(k.stringValue)'"
        case DecodingError.typeMismatch(_, let c): return "wrong type at \(c.codingPath.map(\.stringValue).joined(separator: "."))"
        default: return "unreadable JSON"
        }
    }
}
