import DynamoModel
import Foundation
import Replication

/// What a backfill has done, kept in `state.backfill` so a restart skips it.
/// Versioned JSON; bound to what it copies (a scan of one table, or one
/// set of exports).
public struct BackfillProgress: Sendable, Codable, Equatable {
    public static let currentVersion = 1

    public struct Segment: Sendable, Codable, Equatable {
        /// Items of this segment applied before `resumeKey`.
        public var applied: Int
        /// DynamoDB JSON of the ExclusiveStartKey to resume from.
        public var resumeKey: String?
        public var done: Bool
    }

    public struct DataFile: Sendable, Codable, Equatable {
        /// Lines applied (a prefix of the file).
        public var lines: Int
        public var done: Bool
    }

    public var version = BackfillProgress.currentVersion
    /// "scan:<table>" or "export:<location>[,<location>…]".
    public var source: String
    public var startedAt: Date
    public var totalSegments: Int?
    public var segments: [String: Segment] = [:]
    public var files: [String: DataFile] = [:]
    public var finished = false

    public init(source: String, startedAt: Date = Date()) {
        self.source = source
        self.startedAt = startedAt
    }

    public static func load(path: String, source: String) throws -> BackfillProgress? {
        guard let bytes = try AtomicFile.read(path) else { return nil }
        let progress: BackfillProgress
        do {
            progress = try StateJSON.decoder.decode(BackfillProgress.self, from: Data(bytes))
        } catch {
            throw SetupError("backfill progress file \(path) is not valid (\(error)); move it away to start the backfill over")
        }
        guard progress.source == source else {
            throw SetupError("backfill progress file \(path) belongs to \(progress.source), not \(source); "
                + "point state.backfill elsewhere or remove the file")
        }
        return progress
    }

    public func save(path: String) throws {
        try AtomicFile.write(Array(try StateJSON.encoder.encode(self)), to: path)
    }

    static func keyText(_ item: Item?) -> String? {
        guard let item else { return nil }
        var w = DynamoJSONWriter()
        w.sortsKeys = true
        w.writeItem(item)
        return String(decoding: w.bytes, as: UTF8.self)
    }

}

/// Paces reads: at most `rate` units per second over all callers, with a
/// one-second burst (a ``TokenBucket``). A rate of 0 means no limit.
public final class ReadPacer: Sendable {
    private let limited: Bool
    private let bucket: Mutex<TokenBucket>

    public init(rate: Int) {
        limited = rate > 0
        bucket = Mutex(TokenBucket(rate: Double(max(rate, 1)), now: monotonicSeconds()))
    }

    /// Takes `units`, waiting until they are available.
    public func take(_ units: Double, isStopping: () -> Bool = { false }) {
        guard limited else { return }
        while !isStopping() {
            let wait = bucket.withLock { $0.take(units, now: monotonicSeconds()) }
            if wait == 0 { return }
            Thread.sleep(forTimeInterval: min(wait, 0.2))
        }
    }
}

import Synchronization
