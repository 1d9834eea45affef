import AWSClient
import DynamoModel
import Foundation

/// The status file: what the daemon is doing, rewritten every second.
/// `ferry status` prints it, `ferry health` judges it, the metrics file
/// carries the same numbers. Never holds a secret or an item value.
public struct StatusReport: Sendable, Codable, Equatable {
    public enum Phase: String, Sendable, Codable {
        case starting, creating, backfilling, streaming, draining, stopped, failed
    }

    public struct Shard: Sendable, Codable, Equatable {
        public var id: String
        public var parent: String?
        public var state: ShardPhase
        public var lastSequenceApplied: String?
        public var recordsApplied: Int
        /// Seconds from the oldest unapplied record's creation to now; 0
        /// when the shard is caught up and idle.
        public var lagSeconds: Double
        /// The shard's last GetRecords came back empty: nothing unread.
        public var caughtUp: Bool?

        public init(id: String, parent: String?, state: ShardPhase, lastSequenceApplied: String?, recordsApplied: Int,
                    lagSeconds: Double, caughtUp: Bool?) {
            self.id = id
            self.parent = parent
            self.state = state
            self.lastSequenceApplied = lastSequenceApplied
            self.recordsApplied = recordsApplied
            self.lagSeconds = lagSeconds
            self.caughtUp = caughtUp
        }
    }

    /// Changes lost to the target: records trimmed from the stream before
    /// Ferry read them.
    public struct Gap: Sendable, Codable, Equatable {
        public var shard: String
        public var afterSequence: String?
        public var detectedAt: Date
        public var detail: String
        /// True when the user chose to skip ahead past it.
        public var skipped: Bool

        public init(shard: String, afterSequence: String?, detectedAt: Date, detail: String, skipped: Bool) {
            self.shard = shard
            self.afterSequence = afterSequence
            self.detectedAt = detectedAt
            self.detail = detail
            self.skipped = skipped
        }
    }

    /// One target node: whether requests go to it, since when, and how
    /// many failed on it.
    public struct Node: Sendable, Codable, Equatable {
        public var url: String
        /// False while set aside after a failure, until a request succeeds.
        public var up: Bool
        public var since: Date
        public var failures: Int
        public var lastError: String?

        public init(url: String, up: Bool, since: Date, failures: Int, lastError: String? = nil) {
            self.url = url
            self.up = up
            self.since = since
            self.failures = failures
            self.lastError = lastError
        }

        public init(_ state: TargetNodes.State) {
            self.init(url: state.url, up: state.up, since: state.since, failures: state.failures, lastError: state.lastError)
        }
    }

    public var version: String
    public var pid: Int32
    public var writtenAt: Date
    public var phase: Phase
    public var streamArn: String?
    public var sourceTable: String?
    public var targetTable: String?
    public var shards: [Shard]
    public var totals: ReplicationCounters.Totals
    public var lagSeconds: Double
    public var gaps: [Gap]
    public var lastError: String?
    public var checkpointAgeSeconds: Double?
    /// Backfill progress, when one runs.
    public var backfill: [String: Int]?
    /// Set while replication is stalled: changes wait and nothing has moved
    /// for `stream.stall_seconds`. `ferry health` fails meanwhile.
    public var stalled: String?
    /// The process's threads now, and the most it should have (fixed at
    /// start from the configuration, whatever the number of shards).
    public var threads: Int?
    public var threadBound: Int?
    /// Lease mode: this worker's leases.
    public var leases: Leases?

    public struct Leases: Sendable, Codable, Equatable {
        public var worker: String
        /// Held now, taken and lost since start.
        public var held: Int
        public var taken: Int
        public var lost: Int
        /// The fair share: `low` to `high` shards for each of `workers`.
        public var shareLow: Int
        public var shareHigh: Int
        public var workers: Int
        /// Set when shards that could be taken stay unowned too long.
        public var unhealthy: String?

        public init(worker: String, held: Int, taken: Int, lost: Int, shareLow: Int, shareHigh: Int, workers: Int,
                    unhealthy: String?) {
            self.worker = worker
            self.held = held
            self.taken = taken
            self.lost = lost
            self.shareLow = shareLow
            self.shareHigh = shareHigh
            self.workers = workers
            self.unhealthy = unhealthy
        }
    }
    /// The target's nodes, when the command talks to the target. Absent in
    /// files written before Ferry reported them.
    public var nodes: [Node]?

    public init(version: String, pid: Int32, writtenAt: Date, phase: Phase) {
        self.version = version
        self.pid = pid
        self.writtenAt = writtenAt
        self.phase = phase
        self.shards = []
        self.totals = .init()
        self.lagSeconds = 0
        self.gaps = []
    }

    /// The file's bytes. Everything but the shards goes through the usual
    /// encoder (sorted keys, indented); the shards, which may be thousands,
    /// are written by hand, one line each: Foundation's encoder took 25 ms a
    /// second for 5,000 shards, a tenth of a core on an idle stream.
    public func encoded() throws -> [UInt8] {
        guard shards.count > 16 else { return Array(try StateJSON.encoder.encode(self)) }
        var head = self
        head.shards = []
        let text = Array(try StateJSON.encoder.encode(head))
        let marker = Array(#""shards" : ["#.utf8)
        guard let at = Self.find(marker, in: text) else { return Array(try StateJSON.encoder.encode(self)) }
        var close = at + marker.count
        while close < text.count, text[close] != UInt8(ascii: "]") { close += 1 }
        guard close < text.count else { return Array(try StateJSON.encoder.encode(self)) }
        var w = DynamoJSONWriter(capacity: text.count + shards.count * 160)
        w.writeRaw(text[..<(at + marker.count)])
        for (i, shard) in shards.enumerated() {
            w.writeRaw(i == 0 ? "\n    " : ",\n    ")
            Self.write(shard, to: &w)
        }
        w.writeRaw("\n  ")
        w.writeRaw(text[close...])
        return w.bytes
    }

    /// One shard as the decoder reads it (absent optionals left out).
    static func write(_ s: Shard, to w: inout DynamoJSONWriter) {
        w.beginObject()
        if let caughtUp = s.caughtUp { w.writeKey("caughtUp"); w.writeBool(caughtUp) }
        w.writeKey("id"); w.writeString(s.id)
        w.writeKey("lagSeconds"); w.writeNumberText(s.lagSeconds.isFinite ? String(s.lagSeconds) : "0")
        if let last = s.lastSequenceApplied { w.writeKey("lastSequenceApplied"); w.writeString(last) }
        if let parent = s.parent { w.writeKey("parent"); w.writeString(parent) }
        w.writeKey("recordsApplied"); w.writeInt(s.recordsApplied)
        w.writeKey("state"); w.writeString(s.state.rawValue)
        w.endObject()
    }

    static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for i in 0...(haystack.count - needle.count) where haystack[i] == needle[0] {
            if haystack[i..<(i + needle.count)].elementsEqual(needle) { return i }
        }
        return nil
    }

    public static func decode(_ bytes: [UInt8]) throws -> StatusReport {
        try StateJSON.decoder.decode(StatusReport.self, from: Data(bytes))
    }

    public static func read(path: String) throws -> StatusReport? {
        guard let bytes = try AtomicFile.read(path) else { return nil }
        return try decode(bytes)
    }

    public func write(to path: String) throws {
        try AtomicFile.write(try encoded(), to: path, mode: 0o644)
    }

}
