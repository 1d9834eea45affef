/// Everything Ferry can be told, as one value. Built in layers: defaults,
/// then the YAML file, then `FERRY_*` environment variables, then flags;
/// then ``validate()`` says what to change. See ``ConfigLoader``.
public struct FerryConfig: Sendable, Equatable {
    public struct KeyPair: Sendable, Equatable {
        public var accessKeyId: String?
        public var secretAccessKey: String?
        public var sessionToken: String?

        public var isEmpty: Bool { accessKeyId == nil && secretAccessKey == nil && sessionToken == nil }
    }

    public struct Source: Sendable, Equatable {
        public var table: String?
        /// Overrides the lookup of the table's latest stream.
        public var streamArn: String?
        public var region: String?
        public var endpoint: String?
        public var streamsEndpoint: String?
        public var s3Endpoint: String?
        /// Explicit keys; otherwise the AWS credential chain.
        public var credentials = KeyPair()
        public var profile: String?
        /// Alternator as the source (reverse replication after a cut-over):
        /// its nodes, for the Streams API and reads, set aside and brought
        /// back as the target's are. Empty: DynamoDB.
        public var endpoints: [String] = []

        /// The source is Alternator (``endpoints`` given), not DynamoDB.
        public var isAlternator: Bool { !endpoints.isEmpty }
    }

    public enum TargetType: String, Sendable, Equatable, CaseIterable {
        /// ScyllaDB Alternator: static keys (or none), node discovery.
        case alternator
        /// Amazon DynamoDB (replicating back after cut-over): the AWS
        /// credential chain, 25 writes per batch, write capacity.
        case dynamodb
    }

    public struct Target: Sendable, Equatable {
        public var type = TargetType.alternator
        /// Alternator nodes, used round-robin (`http://host:8000`). For
        /// DynamoDB optional: empty means the regional AWS endpoint.
        public var endpoints: [String] = []
        public var table: String?
        /// Region in the signature; Alternator does not care which,
        /// DynamoDB's is the table's region.
        public var region = "us-east-1"
        /// Alternator with authorization checks the key id (a role name)
        /// and secret (its salted hash); without it any keys work. For
        /// DynamoDB explicit keys; otherwise the AWS credential chain.
        public var credentials = KeyPair()
        /// A shared-config profile for a DynamoDB target.
        public var profile: String?
        /// Write capacity units per second sent to the target; 0: no limit.
        public var maxWriteUnitsPerSecond = 0
        /// Learn the datacenter's nodes from `GET /localnodes`.
        public var discoverNodes = false
        /// PEM CA bundle to trust for https Alternator endpoints.
        public var caBundle: String?
        /// `ferry create-table` makes an Alternator table that can have a
        /// stream later (vnodes, not tablets), for the way back after the
        /// cut-over. false lets ScyllaDB choose.
        public var streamsPossible = true
    }

    public typealias CoordinationMode = Coordination.Mode
    public typealias CoordinationStore = Coordination.Store

    public enum StartPosition: String, Sendable, Equatable, CaseIterable {
        case trimHorizon = "trim-horizon"
        case latest
    }

    public enum ModifyAs: String, Sendable, Equatable, CaseIterable {
        case put
        case update
    }

    public enum TTLDeletes: String, Sendable, Equatable, CaseIterable {
        case replicate
        case skip
    }

    public struct Stream: Sendable, Equatable {
        public var startPosition = StartPosition.trimHorizon
        public var modifyAs = ModifyAs.put
        public var ttlDeletes = TTLDeletes.replicate
        /// Go on past a gap of trimmed records (changes lost to the target)
        /// instead of stopping. Never the default.
        public var skipTrimmedGaps = false
        /// Writer lanes (queues by key hash; data, not threads).
        public var lanes = 8
        /// Threads that send the lanes' batches to the target.
        public var writers = 4
        /// Threads that poll shards, whatever the number of shards.
        public var readers = 4
        /// Idle polls per second over all shards (a shard that returned
        /// records is polled again at once, outside this budget).
        public var maxPollsPerSecond = 500
        /// Seconds without progress, while changes wait, before a stall is declared.
        public var stallSeconds = 120
        /// Writes per BatchWriteItem: 25 for DynamoDB, up to 100 for Alternator.
        public var batchSize = 25
        /// How long a lane waits for more changes before sending a part batch.
        public var lingerMilliseconds = 5
        /// The longest pause between polls of an idle shard.
        public var idleBackoffMaxMilliseconds = 1000
        /// Changes queued per lane before readers wait.
        public var laneCapacity = 4096
        /// Seconds allowed for draining the lanes at shutdown.
        public var drainDeadlineSeconds = 30
    }

    public struct Backfill: Sendable, Equatable {
        /// Parallel Scan segments; 0 picks four per core.
        public var segments = 0
        /// Items read per second across all segments; 0: no limit.
        public var itemsPerSecond = 0
        /// Read capacity units per second across all segments; 0: no limit.
        public var readUnitsPerSecond = 0
        public var consistentRead = false
        /// Export data files read at once.
        public var parallelFiles = 4
        /// Threads that read scan segments, whatever the segment count.
        public var readers = 8
    }

    public struct Verify: Sendable, Equatable {
        /// Parallel Scan segments of each table; 0 picks four per core.
        public var segments = 0
        /// Items read per second from the source (Scan and BatchGetItem); 0: no limit.
        public var sourceReadsPerSecond = 0
        /// Items read per second from the target; 0: no limit.
        public var targetReadsPerSecond = 0
        /// Wait before each consistent re-read of a difference.
        public var recheckDelayMilliseconds = 1000
        /// Threads that compare segments, whatever the segment count.
        public var workers = 8
        /// Consistent re-reads before a difference counts as a mismatch.
        public var recheckAttempts = 3
        /// The JSON-lines mismatch report (`--report`).
        public var report = "ferry-verify-mismatches.jsonl"
        /// Put the values of differing attributes in the report (never in logs).
        public var reportValues = false
    }

    public struct State: Sendable, Equatable {
        /// Backfill progress (files and segments done), for resuming.
        public var backfill = "ferry-backfill.json"
        public var checkpoint = "ferry-checkpoint.json"
        public var status = "ferry-status.json"
        public var deadLetter = "ferry-dead-letter.jsonl"
        /// Prometheus textfile (node_exporter); nil: none.
        public var metrics: String?
        /// Serve the same metrics over HTTP at `/metrics`; nil: off.
        public var metricsListen: MetricsListenAddress?
    }

    public enum LogFormat: String, Sendable, Equatable, CaseIterable {
        case logfmt
        case json
    }

    public enum LogLevel: String, Sendable, Equatable, CaseIterable {
        case trace, debug, info, notice, warning, error, critical
    }

    public struct Log: Sendable, Equatable {
        public var level = LogLevel.info
        public var format = LogFormat.logfmt
    }

    public var source = Source()
    public var target = Target()
    public var stream = Stream()
    public var backfill = Backfill()
    public var verify = Verify()
    public var state = State()
    public var log = Log()
    public var coordination = Coordination()

    /// Several Ferry processes sharing one stream through a lease table.
    public struct Coordination: Sendable, Equatable {
        public enum Mode: String, Sendable, Equatable, CaseIterable {
            /// One process, checkpoints in `state.checkpoint`.
            case file
            /// Leases and checkpoints in a table, shared by several processes.
            case lease
        }

        public enum Store: String, Sendable, Equatable, CaseIterable {
            /// Alternator (the target's nodes) holds the lease table.
            case target
            /// DynamoDB (the source's endpoint) holds it.
            case source
        }

        public var mode = Mode.file
        public var table = "ferry-leases"
        public var store = Store.target
        /// Unique per process; default `hostname:pid`.
        public var workerId: String?
        /// How long a lease lasts without a renewal.
        public var leaseSeconds = 30
        /// Checkpoint writes per second per worker, spread over its shards:
        /// each shard at most every max(5 s, shards held / this). Fewer
        /// writes to the lease table, more replay after a failover.
        public var checkpointsPerSecond = 5
    }

    public init() {}
}
