import DynamoModel
import LoopbackServer
import Synchronization

/// The state and the request handling behind a ``StreamStandIn``, kept apart
/// from the server so the server's handler can hold it without a cycle.
///
/// Locks: `state` guards tables, streams and iterators; `faults` the fault
/// rules; `counters` the request and sink counters (kept apart so a sink's
/// hot path never waits for the state lock longer than a table lookup).
/// Request parsing and response assembly happen outside the locks.
final class StandInCore: Sendable {
    struct Counters {
        var requests: [StandInOperation: Int] = [:]
        var sink = StandInSinkCounters()
        /// With ``StandInConfiguration/logsWriters``: who sent each write.
        var writers: [StandInWriteRecord] = []
    }

    let configuration: StandInConfiguration
    let state: Mutex<StandInState>
    let faults = Mutex(FaultBook())
    let counters = Mutex(Counters())
    private let clockOffset = Mutex(0.0)

    init(configuration: StandInConfiguration) {
        self.configuration = configuration
        self.state = Mutex(StandInState(configuration: configuration))
    }

    /// The stand-in's clock: the configured clock plus test adjustments.
    func now() -> Double {
        configuration.clock() + clockOffset.withLock { $0 }
    }

    func advanceClock(by seconds: Double) {
        clockOffset.withLock { $0 += seconds }
    }

    // MARK: - Requests

    func handle(_ request: ServerRequest) -> ServerAction {
        guard let target = request.header("x-amz-target") else {
            return ServiceError("UnknownOperationException", "X-Amz-Target header missing").action
        }
        guard let operation = StandInOperation(target: target) else {
            return ServiceError("UnknownOperationException", "Unknown operation \(target)").action
        }
        counters.withLock { $0.requests[operation, default: 0] += 1 }
        if configuration.logsWriters, operation == .batchWriteItem || operation == .putItem {
            let record = StandInWriteRecord(time: now(), userAgent: request.header("user-agent") ?? "",
                                            operation: operation, partitionKeys: Self.partitionKeys(request.body))
            counters.withLock { $0.writers.append(record) }
        }

        let decision = faults.withLock { $0.decide(for: operation) }
        let answer: ServerAction
        switch decision.answer {
        case .error(let error): answer = error.action
        case .close: answer = .closeConnection
        case .reset: answer = .resetConnection
        case nil: answer = perform(operation, request.body)
        }
        return decision.delay > 0 ? .delay(decision.delay, then: answer) : answer
    }

    /// The `pk` strings of the items a write request carries (test use).
    static func partitionKeys(_ body: [UInt8]) -> [String] {
        guard let request = try? JSONView(body) else { return [] }
        if let item = request["Item"] { return item["pk"]?["S"]?.string.map { [$0] } ?? [] }
        var keys: [String] = []
        request["RequestItems"]?.forEachMember { _, writes in
            for write in writes.elements {
                let item = write["PutRequest"]?["Item"] ?? write["DeleteRequest"]?["Key"]
                if let pk = item?["pk"]?["S"]?.string { keys.append(pk) }
            }
        }
        return keys
    }

    private func perform(_ operation: StandInOperation, _ body: [UInt8]) -> ServerAction {
        do {
            let request: JSONView
            do {
                request = try JSONView(body.isEmpty ? Array("{}".utf8) : body)
            } catch {
                throw ServiceError.serialization("Start of structure or map found where not expected")
            }
            guard request.kind == .object else { throw ServiceError.serialization("The request body must be a JSON object") }
            return StandInResponse.ok(try dispatch(operation, request))
        } catch let error as ServiceError {
            return error.action
        } catch {
            return ServiceError.internalError("stand-in failure: \(error)").action
        }
    }

    private func dispatch(_ operation: StandInOperation, _ request: JSONView) throws -> [UInt8] {
        switch operation {
        case .createTable: return try createTable(request)
        case .deleteTable: return try deleteTable(request)
        case .describeTable: return try describeTable(request)
        case .updateTable: return try updateTable(request)
        case .listTables: return try listTables(request)
        case .putItem: return try putItem(request)
        case .deleteItem: return try deleteItem(request)
        case .getItem: return try getItem(request)
        case .updateItem: return try updateItem(request)
        case .batchWriteItem: return try batchWriteItem(request)
        case .batchGetItem: return try batchGetItem(request)
        case .scan: return try scan(request)
        case .listStreams: return try listStreams(request)
        case .describeStream: return try describeStream(request)
        case .getShardIterator: return try getShardIterator(request)
        case .getRecords: return try getRecords(request)
        }
    }
}

/// Writes the stand-in counted in sink mode and otherwise (puts and
/// deletes that arrived in accepted requests).
/// One write request as the stand-in saw it: when, from whom, which keys.
public struct StandInWriteRecord: Sendable {
    public var time: Double
    public var userAgent: String
    public var operation: StandInOperation
    public var partitionKeys: [String]
}

public struct StandInSinkCounters: Sendable, Hashable {
    public var puts = 0
    public var deletes = 0
    /// Bytes of put items.
    public var itemBytes = 0
    public var writes: Int { puts + deletes }
}

// MARK: - Reading requests

extension JSONView {
    func requiredString(_ name: String) throws(ServiceError) -> String {
        guard let value = self[name]?.string else {
            throw ServiceError.validation("1 validation error detected: Value null at '\(name.prefix(1).lowercased() + name.dropFirst())' failed to satisfy constraint: Member must not be null")
        }
        return value
    }

    func optionalInt(_ name: String) throws(ServiceError) -> Int? {
        guard let value = self[name] else { return nil }
        guard let int = value.intValue else { throw ServiceError.validation("\(name) must be an integer") }
        return int
    }

    /// An object of strings (ExpressionAttributeNames).
    func stringMap(_ name: String) throws(ServiceError) -> [String: String] {
        guard let value = self[name] else { return [:] }
        var map: [String: String] = [:]
        var bad = value.kind != .object
        value.forEachMember { key, member in
            if let text = member.string { map[key] = text } else { bad = true }
        }
        if bad { throw ServiceError.validation("\(name) must map names to strings") }
        return map
    }
}
