import Synchronization

/// The totals of the status file and the metrics, shared by readers and
/// lanes (a `Mutex`, taken briefly, once per batch or page).
public final class ReplicationCounters: Sendable {
    public struct Totals: Sendable, Equatable, Codable {
        public var read = 0
        /// GetRecords requests (empty ones included).
        public var polls = 0
        /// New records read, by event (a replayed record is not counted again).
        public var inserted = 0
        public var modified = 0
        public var removed = 0
        /// New records whose sequence number did not rise above the one
        /// before them on their shard: applied, counted, and logged.
        public var outOfOrder = 0
        public var put = 0
        public var deleted = 0
        public var updated = 0
        public var skippedTTL = 0
        /// Records written before the cut-over (reverse replication): the
        /// forward daemon's own writes, never sent back.
        public var beforeCutover = 0
        /// REMOVEs not written because a put of the same key followed them
        /// directly (Alternator shows a put as REMOVE then MODIFY; see
        /// ``RemovePairing``).
        public var pairedRemoves = 0
        public var deadLettered = 0
        public var retries = 0
        public var throttles = 0
        public var batches = 0
        /// Write capacity units of the acknowledged writes (a put: its
        /// size in KB rounded up, at least 1; a delete: 1).
        public var writeUnits = 0
        /// WCU per second the writers may send now (a gauge: the configured
        /// maximum, or less after throttling); 0: no limit.
        public var writeRateLimit = 0
        public init() {}

        /// Fields missing from an older status file read as 0.
        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            func field(_ key: CodingKeys) throws -> Int { try c.decodeIfPresent(Int.self, forKey: key) ?? 0 }
            read = try field(.read); polls = try field(.polls); inserted = try field(.inserted); modified = try field(.modified)
            removed = try field(.removed); outOfOrder = try field(.outOfOrder); put = try field(.put)
            deleted = try field(.deleted); updated = try field(.updated); skippedTTL = try field(.skippedTTL)
            pairedRemoves = try field(.pairedRemoves)
            deadLettered = try field(.deadLettered); retries = try field(.retries); throttles = try field(.throttles)
            batches = try field(.batches); beforeCutover = try field(.beforeCutover)
            writeUnits = try field(.writeUnits); writeRateLimit = try field(.writeRateLimit)
        }
    }

    private let totals = Mutex(Totals())

    public init() {}

    public func add(_ change: (inout Totals) -> Void) { totals.withLock { change(&$0) } }

    public var snapshot: Totals { totals.withLock { $0 } }
}
