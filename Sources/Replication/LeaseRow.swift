/// One shard's row in the lease table. The store keys it by stream ARN and
/// shard id; the core only ever sees the rows of one stream.
public struct LeaseRow: Sendable, Equatable {
    public var shardId: String
    /// The worker holding the lease; nil while nobody does (new or released).
    public var owner: String?
    /// Raised by every take, renewal and release. Other workers judge a
    /// lease by whether this number moves, never by anyone's wall clock.
    public var counter: Int
    public var parents: [String]
    /// Every record at or below it is applied: a new owner starts after it.
    public var checkpoint: SequenceNumber?
    /// Every record applied and checkpointed: the children may be taken.
    public var finished: Bool

    public init(shardId: String, owner: String? = nil, counter: Int = 0, parents: [String] = [],
                checkpoint: SequenceNumber? = nil, finished: Bool = false) {
        self.shardId = shardId
        self.owner = owner
        self.counter = counter
        self.parents = parents
        self.checkpoint = checkpoint
        self.finished = finished
    }
}

/// A worker's heartbeat row: kept in the lease table under the stream and
/// the shard key `worker#<id>` (``LeaseTable/heartbeatPrefix``), never
/// listed or taken as a shard. The worker writes a new counter every third
/// of a lease; its shard leases live while the counter moves.
public struct LeaseHeartbeat: Sendable, Equatable {
    public var worker: String
    public var counter: Int
    /// The worker's largest lag over its shards when it last beat, so
    /// `ferry status` on any host shows every worker's lag.
    public var lagSeconds: Double?

    public init(worker: String, counter: Int, lagSeconds: Double? = nil) {
        self.worker = worker
        self.counter = counter
        self.lagSeconds = lagSeconds
    }
}

/// Whether this worker does its part (see ``LeaseCore/health(now:)``).
public struct LeaseHealth: Sendable, Equatable {
    public var healthy: Bool
    public var reason: String?
}
