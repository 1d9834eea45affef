import AWSClient
import Foundation
import DynamoModel
import Synchronization

/// The lease table: one row per shard of a stream, and one heartbeat row
/// per worker, in DynamoDB or Alternator, written only with conditional
/// writes on the owner and the lease counter, so two workers can never
/// both hold a shard.
///
/// Shard row: `stream` (hash key) and `shard` (range key), `owner`,
/// `counter`, `parents` (a string set), `checkpoint` (a sequence number as
/// a string) and `finished`. Heartbeat row: `stream`, `shard` =
/// `worker#<id>`, `owner` = the worker, `counter`.
public struct LeaseTable: Sendable {
    public let client: DynamoDBClient
    public let table: String
    public let streamArn: String
    /// Who writes: stored as the owner, compared in every condition.
    public let workerId: String
    /// Requests sent to the table (for the benchmark's overhead figure).
    public let requests = RequestTally()
    /// The same requests by kind: reads (scan pages), takes (creates, takes,
    /// steals and releases), heartbeats and checkpoint writes.
    public let tally = Tally()

    public struct Tally: Sendable {
        public let reads = RequestTally(), takes = RequestTally(), heartbeats = RequestTally(), checkpoints = RequestTally()
    }

    /// A count shared by copies of a table value.
    public final class RequestTally: Sendable {
        private let count = Atomic<Int>(0)
        public var value: Int { count.load(ordering: .relaxed) }
        func add(_ n: Int = 1) { count.add(n, ordering: .relaxed) }
    }

    public init(client: DynamoDBClient, table: String, streamArn: String, workerId: String) {
        self.client = client
        self.table = table
        self.streamArn = streamArn
        self.workerId = workerId
    }

    /// The tag that makes Alternator run every write to the table as a
    /// lightweight transaction (LWT). Without it (under `unsafe_rmw`, say)
    /// conditions are checked without isolation and give no exclusion.
    public static let writeIsolationTag = (key: "system:write_isolation", value: "always_use_lwt")

    public struct SetupError: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// Creates the table if it is missing (on-demand billing) and, in
    /// Alternator, checks that its writes are isolated.
    public func ensureTable(inAlternator alternator: Bool) throws {
        let description = try existingOrCreated(alternator: alternator)
        guard description.primaryKey == KeySchema(partitionKey: "stream", sortKey: "shard") else {
            throw SetupError(description: "lease table \(table) exists with another key; its key must be (stream, shard). "
                + "Point coordination.table at another table")
        }
        if alternator {
            guard let arn = description.tableArn else {
                throw SetupError(description: "lease table \(table): DescribeTable gave no TableArn to check its tags")
            }
            let tags = try client.listTags(arn: arn)
            guard tags[Self.writeIsolationTag.key] == Self.writeIsolationTag.value else {
                throw SetupError(description: """
                    lease table \(table) in Alternator lacks the tag \(Self.writeIsolationTag.key)=\(Self.writeIsolationTag.value): \
                    without it conditional writes are not isolated (unsafe_rmw) and two workers could both hold a shard. \
                    Tag it (aws dynamodb tag-resource --resource-arn \(arn) --tags \
                    Key=\(Self.writeIsolationTag.key),Value=\(Self.writeIsolationTag.value)) or drop it and let Ferry create it
                    """)
            }
        }
    }

    private func existingOrCreated(alternator: Bool) throws -> TableDescription {
        switch Result(catching: { () throws(AWSClientError) in try client.describeTable(table) }) {
        case .success(let found):
            return found
        case .failure(let error) where error.serviceError?.code != "ResourceNotFoundException":
            throw error
        case .failure:
            break
        }
        let spec = TableDescription(
            tableName: table,
            keySchema: [KeySchemaElement(attributeName: "stream", keyType: "HASH"),
                        KeySchemaElement(attributeName: "shard", keyType: "RANGE")],
            attributeDefinitions: [AttributeDefinition(attributeName: "stream", attributeType: "S"),
                                   AttributeDefinition(attributeName: "shard", attributeType: "S")])
        let created: TableDescription
        switch Result(catching: { () throws(AWSClientError) in try client.createTable(spec) }) {
        case .success(let made):
            created = made
        case .failure(let error) where error.serviceError?.code == "ResourceInUseException":
            return try client.describeTable(table)  // another worker created it first
        case .failure(let error):
            throw error
        }
        if alternator, let arn = created.tableArn {
            try client.tagResource(arn: arn, tags: [Self.writeIsolationTag.key: Self.writeIsolationTag.value])
        }
        return created
    }

    /// The range key of heartbeat rows starts with this; no shard id does.
    public static let heartbeatPrefix = "worker#"
    /// The range key of the row where `ferry cutover` records where the way
    /// back begins (lease mode's counterpart of the checkpoint file's
    /// ``Checkpoint/Cutover``); no shard id looks like it.
    public static let cutoverShard = "cutover#"

    /// Records the cut-over for this stream: once (false when a record is
    /// there already), or over an existing one with `replacing`.
    public func writeCutover(_ cutover: Checkpoint.Cutover, replacing: Bool) throws -> Bool {
        requests.add()
        var item = key(Self.cutoverShard)
        item["notBefore"] = .n(String(cutover.notBefore.timeIntervalSince1970))
        item["at"] = .n(String(cutover.at.timeIntervalSince1970))
        if let stream = cutover.forwardStream { item["forwardStream"] = .s(stream) }
        if let status = cutover.forwardStatus, !status.isEmpty { item["forwardStatus"] = .l(status.map { .s($0) }) }
        if replacing {
            try client.putItem(table: table, item: item)
            return true
        }
        return try client.putItem(table: table, item: item, if: .init("attribute_not_exists(#s)", names: ["#s": "shard"]))
    }

    /// The cut-over recorded for this stream, if any.
    public func readCutover() throws -> Checkpoint.Cutover? {
        requests.add()
        guard let item = try client.getItem(table: table, key: key(Self.cutoverShard), consistentRead: true),
              let notBefore = item["notBefore"]?.numberText.flatMap(Double.init),
              let at = item["at"]?.numberText.flatMap(Double.init) else { return nil }
        var status: [String]?
        if case .l(let list)? = item["forwardStatus"] { status = list.compactMap(\.stringValue) }
        return Checkpoint.Cutover(notBefore: Date(timeIntervalSince1970: notBefore), at: Date(timeIntervalSince1970: at),
                                  forwardStream: item["forwardStream"]?.stringValue, forwardStatus: status)
    }

    /// The shard rows and heartbeat rows of the stream, as one read saw them.
    public struct Snapshot: Sendable, Equatable {
        public var rows: [LeaseRow] = []
        public var heartbeats: [LeaseHeartbeat] = []
    }

    /// Every shard row of this stream, heartbeat rows left out.
    public func readAll() throws -> [LeaseRow] { try read().rows }

    /// Every row of this stream (a consistent scan: the table holds one row
    /// per shard and one per worker).
    public func read() throws -> Snapshot {
        var snapshot = Snapshot()
        var start: Item?
        repeat {
            requests.add()
            tally.reads.add()
            let page = try client.scan(table: table, exclusiveStartKey: start, consistentRead: true)
            for view in page.items {
                let item = try view.readItem()
                guard item["stream"]?.stringValue == streamArn, let shard = item["shard"]?.stringValue else { continue }
                let counter = item["counter"]?.numberText.flatMap { Int($0) } ?? 0
                if shard == Self.cutoverShard { continue }
                if shard.hasPrefix(Self.heartbeatPrefix) {
                    snapshot.heartbeats.append(LeaseHeartbeat(worker: String(shard.dropFirst(Self.heartbeatPrefix.count)),
                                                              counter: counter,
                                                              lagSeconds: item["lag"]?.numberText.flatMap { Double($0) }))
                    continue
                }
                snapshot.rows.append(LeaseRow(
                    shardId: shard, owner: item["owner"]?.stringValue,
                    counter: counter,
                    parents: Self.strings(item["parents"]),
                    checkpoint: item["checkpoint"]?.stringValue.flatMap { SequenceNumber($0) },
                    finished: item["finished"]?.boolValue ?? false))
            }
            start = page.lastEvaluatedKey
        } while start != nil
        return snapshot
    }

    private static func strings(_ value: AttributeValue?) -> [String] {
        if case .ss(let set)? = value { return set.sorted() }
        return []
    }

    private func key(_ shard: String) -> Item { ["stream": .s(streamArn), "shard": .s(shard)] }

    /// A row for a shard newly found (owned if `row.owner` is set: a take
    /// in one write); false when it exists already.
    public func create(_ row: LeaseRow) throws -> Bool {
        requests.add()
        tally.takes.add()
        var item = key(row.shardId)
        if let owner = row.owner { item["owner"] = .s(owner) }
        item["counter"] = .n(String(row.counter))
        item["finished"] = .bool(row.finished)
        if !row.parents.isEmpty { item["parents"] = .ss(row.parents) }
        if let checkpoint = row.checkpoint { item["checkpoint"] = .s(checkpoint.digits) }
        return try client.putItem(table: table, item: item, if: .init("attribute_not_exists(#s)", names: ["#s": "shard"]))
    }

    /// Takes the lease if it is still as seen (owner and counter); the row as it is then.
    public func take(_ row: LeaseRow) throws -> LeaseRow? {
        requests.add()
        tally.takes.add()
        var condition = DynamoDBClient.Condition("#c = :seen", names: ["#c": "counter"], values: [":seen": .n(String(row.counter))])
        if let owner = row.owner {
            condition.expression += " AND #o = :was"
            condition.names["#o"] = "owner"
            condition.values[":was"] = .s(owner)
        } else {
            condition.expression += " AND attribute_not_exists(#o)"
            condition.names["#o"] = "owner"
        }
        let taken = try client.updateItem(table: table, key: key(row.shardId), updateExpression: "SET #o = :me, #c = :next",
                                          values: [":me": .s(workerId), ":next": .n(String(row.counter + 1))], if: condition)
        guard taken else { return nil }
        var now = row
        now.owner = workerId
        now.counter = row.counter + 1
        return now
    }

    /// Writes `counter` into this worker's heartbeat row: an update while
    /// the row is this worker's, else a put if there is no row (the first
    /// beat, or after a stale row was deleted). False when neither held.
    /// `lagSeconds`, the worker's largest lag, rides along for `ferry status`.
    public func beat(counter: Int, lagSeconds: Double? = nil) throws -> Bool {
        requests.add()
        tally.heartbeats.add()
        let heartbeat = key(Self.heartbeatPrefix + workerId)
        let lag = lagSeconds.map { String(format: "%.1f", max(0, $0)) }
        var values: Item = [":next": .n(String(counter))]
        if let lag { values[":lag"] = .n(lag) }
        if try client.updateItem(table: table, key: heartbeat, updateExpression: lag == nil ? "SET #c = :next" : "SET #c = :next, #l = :lag",
                                 values: values,
                                 if: .init("#o = :me", names: lag == nil ? ["#o": "owner", "#c": "counter"]
                                                                          : ["#o": "owner", "#c": "counter", "#l": "lag"],
                                           values: [":me": .s(workerId)])) {
            return true
        }
        requests.add()
        tally.heartbeats.add()
        var item = heartbeat
        item["owner"] = .s(workerId)
        item["counter"] = .n(String(counter))
        if let lag { item["lag"] = .n(lag) }
        return try client.putItem(table: table, item: item, if: .init("attribute_not_exists(#s)", names: ["#s": "shard"]))
    }

    /// Deletes a worker's heartbeat row: if its counter is still
    /// `counter` (a stale row), or this worker's own (nil, at a clean stop).
    public func deleteHeartbeat(of worker: String, counter: Int?) throws -> Bool {
        requests.add()
        let condition: DynamoDBClient.Condition = counter.map {
            .init("#c = :seen", names: ["#c": "counter"], values: [":seen": .n(String($0))])
        } ?? .init("#o = :me", names: ["#o": "owner"], values: [":me": .s(workerId)])
        return try client.deleteItem(table: table, key: key(Self.heartbeatPrefix + worker), if: condition)
    }

    /// Gives a lease up (with the last checkpoint); false when it was no longer ours.
    public func release(_ shard: String, counter: Int, checkpoint: SequenceNumber?) throws -> Bool {
        requests.add()
        tally.takes.add()
        var values: Item = [":next": .n(String(counter + 1))]
        var expression = "SET #c = :next REMOVE #o"
        if let checkpoint {
            expression = "SET #c = :next, #k = :cp REMOVE #o"
            values[":cp"] = .s(checkpoint.digits)
        }
        var condition = mine(counter: counter)
        if checkpoint != nil { condition.names["#k"] = "checkpoint" }
        return try client.updateItem(table: table, key: key(shard), updateExpression: expression, values: values, if: condition)
    }

    /// Moves the checkpoint of a shard this worker holds; false when it no longer does.
    public func writeCheckpoint(_ shard: String, sequence: SequenceNumber?, finished: Bool) throws -> Bool {
        requests.add()
        tally.checkpoints.add()
        var expression = "SET #f = :done"
        var values: Item = [":done": .bool(finished), ":me": .s(workerId)]
        var names = ["#f": "finished", "#o": "owner"]
        if let sequence {
            expression += ", #k = :cp"
            values[":cp"] = .s(sequence.digits)
            names["#k"] = "checkpoint"
        }
        return try client.updateItem(table: table, key: key(shard), updateExpression: expression,
                                     if: .init("#o = :me", names: names, values: values))
    }

    /// Deletes a finished row (its shard aged out, its children finished).
    public func delete(_ shard: String) throws -> Bool {
        requests.add()
        return try client.deleteItem(table: table, key: key(shard),
                              if: .init("#f = :yes", names: ["#f": "finished"], values: [":yes": .bool(true)]))
    }

    private func mine(counter: Int) -> DynamoDBClient.Condition {
        .init("#o = :me AND #c = :seen", names: ["#o": "owner", "#c": "counter"],
              values: [":me": .s(workerId), ":seen": .n(String(counter))])
    }
}
