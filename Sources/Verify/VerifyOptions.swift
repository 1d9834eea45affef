import DynamoModel

/// What a ``Verifier`` compares and how. The defaults are those of
/// `ferry verify` without flags.
public struct VerifyOptions: Sendable {
    public var sourceTable: String
    public var targetTable: String
    /// The primary key of both tables (the caller checks they agree).
    public var keySchema: KeySchema
    public var scope: VerifyScope = .all
    /// Parallel Scan segments for `.all` and `.sample`.
    public var segments = 8
    /// Threads that work through the segments (or key chunks), whatever
    /// their number: units in a queue, never a thread each.
    public var workers = 8
    /// Items per Scan page; DynamoDB stops a page at 1 MB anyway.
    public var pageLimit = 1000
    /// Keys per BatchGetItem: 100 is the limit of DynamoDB and Alternator.
    public var batchSize = 100
    /// Seconds between the first difference and each consistent re-read:
    /// time for `ferry stream` to apply a change still in flight.
    public var recheckDelay = 1.0
    /// Consistent re-reads before a difference counts as a mismatch.
    public var recheckAttempts = 3
    /// Write the source item to the target (or delete an extra target
    /// item) for every mismatch, then check it again.
    public var repair = false
    /// Scan the target for items the source does not have.
    public var checkExtraItems = true

    public init(sourceTable: String, targetTable: String, keySchema: KeySchema) {
        self.sourceTable = sourceTable
        self.targetTable = targetTable
        self.keySchema = keySchema
    }

    func validate() throws(VerifyError) {
        guard segments >= 1 else { throw .invalidOption("segments must be at least 1") }
        guard (1...100).contains(batchSize) else { throw .invalidOption("BatchGetItem takes 1 to 100 keys, not \(batchSize)") }
        guard pageLimit >= 1 else { throw .invalidOption("the page limit must be at least 1") }
        guard recheckAttempts >= 1 else { throw .invalidOption("recheck attempts must be at least 1") }
        guard recheckDelay >= 0 else { throw .invalidOption("the recheck delay must not be negative") }
        if case .sample(let n) = scope, n < 1 { throw .invalidOption("--sample takes a positive number of items") }
    }
}
