import DynamoModel
import LoopbackServer

/// An in-memory stand-in for DynamoDB and DynamoDB Streams (the JSON 1.0
/// API), served on 127.0.0.1, that can split shards, trim, expire
/// iterators and inject faults — what moto cannot do — and is fast enough
/// to be a benchmark's stream source or BatchWriteItem sink.
///
/// Requests are dispatched on `X-Amz-Target` (`DynamoDB_20120810.*`,
/// `DynamoDBStreams_20120810.*`); signatures are not checked. Errors come
/// back as DynamoDB sends them: HTTP 400 (500 for internal errors) with
/// `{"__type":"com.amazonaws.dynamodb.v20120810#Code","message":"…"}`.
///
///     let standIn = try StreamStandIn()
///     defer { standIn.stop() }
///     let arn = try standIn.createTable(StandInTableSpec("orders", sortKey: "sk", stream: .newAndOldImages))
///     let children = try standIn.splitShard(try standIn.openShardIDs(table: "orders")[0])
///     standIn.inject(.throttling(on: [.getRecords], times: 2))
///     // point DynamoDBClient / DynamoDBStreamsClient at standIn.baseURL
///
/// The test-control methods below are Swift calls, thread-safe, and may run
/// while clients are connected. Sequence numbers are decimal strings of 21
/// and more digits that cross a digit-count boundary early (see
/// ``StandInConfiguration/firstSequenceNumber``).
public final class StreamStandIn: Sendable {
    public let configuration: StandInConfiguration
    let core: StandInCore
    private let server: LoopbackServer

    /// Starts serving on a free port of 127.0.0.1.
    public init(configuration: StandInConfiguration = StandInConfiguration()) throws(LoopbackServerError) {
        self.configuration = configuration
        let core = StandInCore(configuration: configuration)
        self.core = core
        self.server = try LoopbackServer { request in core.handle(request) }
    }

    /// "http://127.0.0.1:PORT": the endpoint for both DynamoDB and Streams clients.
    public var baseURL: String { server.baseURL }

    /// The underlying server (connection counts and the like).
    public var loopbackServer: LoopbackServer { server }

    /// Stops serving and waits for the connection threads; state stays readable.
    public func stop() { server.stop() }

    // MARK: - Tables

    /// Creates a table (and its stream, when the spec asks for one).
    /// - Returns: the stream ARN, or nil for a table without stream.
    @discardableResult
    public func createTable(_ spec: StandInTableSpec) throws(StandInError) -> String? {
        let now = core.now()
        return try core.state.withLock { state throws(StandInError) -> String? in
            try state.createTable(spec, now: now, configuration: configuration)
            return state.tables[spec.name]?.stream?.arn
        }
    }

    /// Drops a table and its stream.
    public func deleteTable(_ name: String) throws(StandInError) {
        try core.state.withLock { state throws(StandInError) in
            guard state.tables[name] != nil else { throw StandInError(.tableNotFound, "no table \(name)") }
            state.dropTable(name)
        }
    }

    /// The ARN of the table's stream.
    public func streamArn(table: String) throws(StandInError) -> String {
        try withStream(table) { _, _, stream in stream.arn }
    }

    /// Writes items as PutItem would (stream records included), bypassing
    /// HTTP and faults: for setting up a source table quickly.
    public func put(table: String, items: [Item]) throws(StandInError) {
        try write(table: table, items.map { .put($0) })
    }

    /// Deletes keys as DeleteItem would, bypassing HTTP and faults.
    public func delete(table: String, keys: [Item]) throws(StandInError) {
        try write(table: table, keys.map { .delete($0) })
    }

    /// Deletes an item as DynamoDB's TTL process does: the stream record is a
    /// REMOVE whose `userIdentity` is `{type: Service, principalId:
    /// dynamodb.amazonaws.com}`. Nothing happens if the item is absent.
    public func expireItem(table: String, key: Item) throws(StandInError) {
        try write(table: table, [.delete(key)], byService: true)
    }

    private enum DirectWrite {
        case put(Item)
        case delete(Item)
    }

    private func write(table: String, _ writes: [DirectWrite], byService: Bool = false) throws(StandInError) {
        let spec = try core.state.withLock { state throws(StandInError) -> StandInTableSpec in
            guard let found = state.tables[table] else { throw StandInError(.tableNotFound, "no table \(table)") }
            return found.spec
        }
        var parsed: [ParsedWrite] = []
        for write in writes {
            do {
                switch write {
                case .put(let item):
                    parsed.append(ParsedWrite(key: try spec.keySchema.key(of: item), raw: StandInState.sortedJSON(item)))
                case .delete(let key):
                    parsed.append(ParsedWrite(key: try spec.keySchema.key(of: key), raw: nil))
                }
            } catch {
                throw StandInError(.invalidItem, "\(error)")
            }
        }
        let now = core.now()
        try core.state.withLock { state throws(StandInError) in
            guard let found = state.tables[table] else { throw StandInError(.tableNotFound, "no table \(table)") }
            state.apply(parsed, to: found, operation: nil, byService: byService, now: now, configuration: configuration)
        }
    }

    // MARK: - Faults and time

    /// Installs a fault rule; see ``StandInFault``.
    @discardableResult
    public func inject(_ fault: StandInFault) -> StandInFaultID {
        core.faults.withLock { $0.add(fault) }
    }

    public func removeFault(_ id: StandInFaultID) {
        core.faults.withLock { $0.remove(id) }
    }

    public func removeAllFaults() {
        core.faults.withLock { $0.removeAll() }
    }

    /// How many times the rule has fired so far.
    public func firedCount(_ id: StandInFaultID) -> Int {
        core.faults.withLock { $0.firedCount(id) }
    }

    /// Makes GetRecords answer `ExpiredIteratorException` for this iterator.
    public func expireIterator(_ iterator: String) {
        guard let token = ShardIteratorToken(decoding: iterator) else { return }
        core.state.withLock { _ = $0.expiredIteratorSerials.insert(token.serial) }
    }

    /// Expires every iterator issued so far.
    public func expireAllIterators() {
        core.state.withLock { $0.iteratorsExpireBelowSerial = $0.iteratorsIssued + 1 }
    }

    /// Moves the stand-in's clock forward: iterators age (see
    /// ``StandInConfiguration/iteratorAgeLimit``) and new records carry
    /// later times, without waiting.
    public func advanceClock(by seconds: Double) {
        core.advanceClock(by: seconds)
    }

    /// The stand-in's current time, seconds since 1970.
    public var now: Double { core.now() }

    func withStream<T: Sendable>(
        _ table: String, _ body: (inout StandInState, TableState, StreamState) throws(StandInError) -> T
    ) throws(StandInError) -> T {
        try core.state.withLock { state throws(StandInError) -> T in
            guard let found = state.tables[table] else { throw StandInError(.tableNotFound, "no table \(table)") }
            guard let stream = found.stream else { throw StandInError(.noStream, "table \(table) has no stream") }
            return try body(&state, found, stream)
        }
    }
}
