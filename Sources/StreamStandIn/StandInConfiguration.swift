/// How a ``StreamStandIn`` behaves. Start from the defaults (DynamoDB's
/// limits) or a preset and change what a test needs:
///
///     var configuration = StandInConfiguration()
///     configuration.maxBatchWriteItems = 100        // Alternator's limit
///     configuration.iteratorAgeLimit = 5
public struct StandInConfiguration: Sendable {
    /// The region in ARNs and in stream records' `awsRegion`.
    public var region = "us-east-1"
    /// The account in ARNs.
    public var accountID = "123456789012"
    /// Writes per BatchWriteItem request: 25 in DynamoDB, up to 100 in
    /// Alternator. Values are clamped to 1...100.
    public var maxBatchWriteItems = 25
    /// Keys per BatchGetItem request (DynamoDB: 100).
    public var maxBatchGetKeys = 100
    /// Shards per DescribeStream page (DynamoDB: up to 100); a request's
    /// smaller `Limit` wins.
    public var describeStreamPageSize = 100
    /// Seconds after which a shard iterator expires (DynamoDB: 15 minutes).
    public var iteratorAgeLimit: Double = 15 * 60
    /// Bytes of records per GetRecords answer (DynamoDB: 1 MB). At least one
    /// record is returned whatever its size.
    public var getRecordsByteLimit = 1 << 20
    /// Largest accepted item, counted as its DynamoDB JSON bytes (DynamoDB
    /// counts names and values: 400 KB). Larger items get a ValidationException.
    public var maxItemBytes = 400 * 1024
    /// The first sequence number handed out. The default has 21 digits and
    /// is 1,000 below 10^21, so after 28 records the numbers have 22 digits:
    /// code that compares them as text breaks early.
    public var firstSequenceNumber: UInt128 = 999_999_999_999_999_999_000
    /// The gap between consecutive sequence numbers of the stand-in.
    public var sequenceNumberStep: UInt128 = 37
    /// Count writes and drop them: no items, no stream records, no write
    /// log. Requests are still parsed and checked (keys, duplicates, batch
    /// size, poison rules), so a benchmark sink measures the client.
    public var sinkMode = false
    /// A stream that breaks its ordering contract, as moto's does when two
    /// clients write at once. Off by default.
    public var sequenceAnomalies = StandInSequenceAnomalies()
    /// Keep the log of applied writes that ``StreamStandIn/appliedWrites(table:key:)``
    /// reads. Costs memory per write; benchmarks turn it off.
    public var keepsWriteLog = true
    /// Log every BatchWriteItem and PutItem with its User-Agent and time
    /// (``StreamStandIn/writeRequests()``), to tell which worker wrote what.
    public var logsWriters = false
    /// Check every written item against the DynamoDB JSON rules (the full
    /// validator); off, only JSON syntax and the key attributes are checked.
    public var validatesItems = true
    /// Streams shaped like ScyllaDB Alternator's (many shards, a put as
    /// REMOVE then MODIFY, late publication, TTL expiries as plain REMOVEs);
    /// nil: DynamoDB's.
    public var alternatorStreams: StandInAlternatorStreams?
    /// Wall-clock seconds since 1970; ``StreamStandIn/advanceClock(by:)``
    /// adds to it.
    public var clock: @Sendable () -> Double = { WallClock.now() }

    public init() {}

    /// A fast BatchWriteItem target: sink mode, Alternator's 100-item
    /// batches, no write log, JSON syntax and keys checked but not the
    /// DynamoDB JSON rules of every attribute.
    public static var benchmarkSink: StandInConfiguration {
        var configuration = StandInConfiguration()
        configuration.sinkMode = true
        configuration.validatesItems = false
        configuration.maxBatchWriteItems = 100
        configuration.keepsWriteLog = false
        return configuration
    }

    /// A fast stream source: no write log (synthetic records bypass the
    /// table anyway).
    public static var benchmarkSource: StandInConfiguration {
        var configuration = StandInConfiguration()
        configuration.keepsWriteLog = false
        return configuration
    }

    /// ScyllaDB Alternator as a stream source: its streams
    /// (``StandInAlternatorStreams``, with its defaults) and its 100-item
    /// batches.
    public static var alternator: StandInConfiguration {
        var configuration = StandInConfiguration()
        configuration.maxBatchWriteItems = 100
        configuration.alternatorStreams = StandInAlternatorStreams()
        return configuration
    }

    var batchWriteLimit: Int { min(100, max(1, maxBatchWriteItems)) }
}

/// Sequence numbers that do not rise, and pages delivered twice: what moto
/// produces when two clients write at once, made deterministic. Counts are
/// over the records (or GetRecords answers) of the whole stand-in; 0 never.
public struct StandInSequenceAnomalies: Sendable {
    /// Every n-th record gets the number of the record before it in its shard.
    public var repeatEvery = 0
    /// Every n-th record gets a number below the record before it in its shard.
    public var fallEvery = 0
    /// Every n-th GetRecords answer's next iterator points back at the start
    /// of the page it delivered, so the same records (same eventIDs) come again.
    public var replayPageEvery = 0

    public init(repeatEvery: Int = 0, fallEvery: Int = 0, replayPageEvery: Int = 0) {
        self.repeatEvery = repeatEvery
        self.fallEvery = fallEvery
        self.replayPageEvery = replayPageEvery
    }
}
