import DynamoModel

/// One write of a BatchWriteItem, as raw DynamoDB JSON: the item of a put
/// or the key of a delete. Raw bytes go into the request unchanged.
public enum WriteRequest: Sendable {
    case put(item: ArraySlice<UInt8>)
    case delete(key: ArraySlice<UInt8>)
}

/// One page of a Scan. Items stay raw views into the response, so a
/// backfill copies them into writes without decoding them.
public struct ScanPage: Sendable {
    public var items: [JSONView]
    /// nil when the segment is done.
    public var lastEvaluatedKey: Item?
    public var scannedCount: Int
    /// Read capacity consumed, when the service reports it.
    public var consumedCapacity: Double?

    public func decodedItems() throws -> [Item] { try items.map { try $0.readItem() } }
}

/// Typed DynamoDB operations over the JSON 1.0 protocol. Works against
/// DynamoDB itself, Alternator and moto.
public struct DynamoDBClient: Sendable {
    public let json: AWSJSONClient
    /// The `X-Amz-Target` prefix of this protocol's operations.
    public static let targetPrefix = "DynamoDB_20120810"

    public init(json: AWSJSONClient) { self.json = json }

    public init(endpoint: Endpoint, credentials: any CredentialProvider, transport: any HTTPTransport,
                retry: RetryPolicy = RetryPolicy()) {
        json = AWSJSONClient(endpoint: endpoint, targetPrefix: Self.targetPrefix, credentials: credentials,
                             transport: transport, retry: retry)
    }

    public var credentialProvider: any CredentialProvider { json.credentialProvider }

    public func describeTable(_ name: String) throws(AWSClientError) -> TableDescription {
        let body = try json.call("DescribeTable", body: JSONValue.object([("TableName", .string(name))]).serialized())
        return try decode("DescribeTable", body) { try TableDescription(json: try required($0, "Table")) }
    }

    /// Creates `table` (under its `tableName`) and returns the description
    /// the service answered with.
    public func createTable(_ table: TableDescription) throws(AWSClientError) -> TableDescription {
        let body = try json.call("CreateTable", body: table.createTableRequest().serialized())
        return try decode("CreateTable", body) { try TableDescription(json: try required($0, "TableDescription")) }
    }

    public func deleteTable(_ name: String) throws(AWSClientError) {
        _ = try json.call("DeleteTable", body: JSONValue.object([("TableName", .string(name))]).serialized())
    }

    /// Turns the table's stream on (UpdateTable with a StreamSpecification).
    public func enableStream(table: String, viewType: StreamViewType) throws(AWSClientError) -> TableDescription {
        let request = JSONValue.object([
            ("TableName", .string(table)),
            ("StreamSpecification", .object([("StreamEnabled", .bool(true)), ("StreamViewType", .string(viewType.rawValue))])),
        ])
        let body = try json.call("UpdateTable", body: request.serialized())
        return try decode("UpdateTable", body) { try TableDescription(json: try required($0, "TableDescription")) }
    }

    /// One page of a (parallel) Scan.
    public func scan(table: String, segment: Int? = nil, totalSegments: Int? = nil, exclusiveStartKey: Item? = nil,
                     limit: Int? = nil, consistentRead: Bool = false) throws(AWSClientError) -> ScanPage {
        var m: [(key: String, value: JSONValue)] = [("TableName", .string(table))]
        if let segment, let totalSegments {
            m.append(("Segment", .number(String(segment))))
            m.append(("TotalSegments", .number(String(totalSegments))))
        }
        if let exclusiveStartKey { m.append(("ExclusiveStartKey", JSONValue(dynamoItem: exclusiveStartKey))) }
        if let limit { m.append(("Limit", .number(String(limit)))) }
        if consistentRead { m.append(("ConsistentRead", .bool(true))) }
        m.append(("ReturnConsumedCapacity", .string("TOTAL")))
        let body = try json.call("Scan", body: JSONValue.object(m).serialized())
        let view = try json.view(body, operation: "Scan")
        return try decode("Scan", view) { v in
            ScanPage(items: v["Items"]?.elements ?? [],
                     lastEvaluatedKey: try v["LastEvaluatedKey"].map { try $0.readItem() },
                     scannedCount: v["ScannedCount"]?.intValue ?? 0,
                     consumedCapacity: v["ConsumedCapacity"]?["CapacityUnits"]?.doubleValue)
        }
    }

    public func getItem(table: String, key: Item, consistentRead: Bool = false) throws(AWSClientError) -> Item? {
        var m: [(key: String, value: JSONValue)] = [("TableName", .string(table)), ("Key", JSONValue(dynamoItem: key))]
        if consistentRead { m.append(("ConsistentRead", .bool(true))) }
        let body = try json.call("GetItem", body: JSONValue.object(m).serialized())
        let view = try json.view(body, operation: "GetItem")
        return try decode("GetItem", view) { try $0["Item"]?.readItem() }
    }

    /// Fetches up to 100 keys. Returns the items found and the keys the
    /// service left unprocessed (to be asked again).
    public func batchGetItem(table: String, keys: [Item], consistentRead: Bool = false)
        throws(AWSClientError) -> (items: [Item], unprocessedKeys: [Item]) {
        var request: [(key: String, value: JSONValue)] = [("Keys", .array(keys.map { JSONValue(dynamoItem: $0) }))]
        if consistentRead { request.append(("ConsistentRead", .bool(true))) }
        let bodyJSON = JSONValue.object([("RequestItems", .object([(table, .object(request))]))])
        let body = try json.call("BatchGetItem", body: bodyJSON.serialized())
        let view = try json.view(body, operation: "BatchGetItem")
        return try decode("BatchGetItem", view) { v in
            let items = try (v["Responses"]?[table]?.elements ?? []).map { try $0.readItem() }
            let unprocessed = try (v["UnprocessedKeys"]?[table]?["Keys"]?.elements ?? []).map { try $0.readItem() }
            return (items, unprocessed)
        }
    }

    public func putItem(table: String, item: Item) throws(AWSClientError) {
        var w = DynamoJSONWriter()
        w.beginObject()
        w.writeKey("TableName"); w.writeString(table)
        w.writeKey("Item"); w.writeItem(item)
        w.endObject()
        _ = try json.call("PutItem", body: w.bytes)
    }

    public func deleteItem(table: String, key: Item) throws(AWSClientError) {
        let request = JSONValue.object([("TableName", .string(table)), ("Key", JSONValue(dynamoItem: key))])
        _ = try json.call("DeleteItem", body: request.serialized())
    }

    /// UpdateItem with an expression; `values` use DynamoDB JSON.
    public func updateItem(table: String, key: Item, updateExpression: String, names: [String: String],
                           values: Item) throws(AWSClientError) {
        var m: [(key: String, value: JSONValue)] = [
            ("TableName", .string(table)), ("Key", JSONValue(dynamoItem: key)),
            ("UpdateExpression", .string(updateExpression)),
        ]
        if !names.isEmpty {
            m.append(("ExpressionAttributeNames", .object(names.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })))
        }
        if !values.isEmpty { m.append(("ExpressionAttributeValues", JSONValue(dynamoItem: values))) }
        _ = try json.call("UpdateItem", body: JSONValue.object(m).serialized())
    }

    /// The body of a BatchWriteItem request for one table: raw items and
    /// keys are copied in as they are.
    public static func batchWriteBody(table: String, writes: [WriteRequest]) -> [UInt8] {
        // Sized from the writes: a guess that falls short copies the whole
        // body each time it grows.
        var size = 64 + table.utf8.count
        for write in writes {
            switch write {
            case .put(let item): size += item.count + 36
            case .delete(let key): size += key.count + 36
            }
        }
        var w = DynamoJSONWriter(capacity: size)
        w.beginObject()
        w.writeKey("RequestItems")
        w.beginObject()
        w.writeKey(table)
        w.beginArray()
        for write in writes {
            w.beginObject()
            switch write {
            case .put(let item):
                w.writeKey("PutRequest"); w.beginObject(); w.writeKey("Item"); w.writeRawValue(item); w.endObject()
            case .delete(let key):
                w.writeKey("DeleteRequest"); w.beginObject(); w.writeKey("Key"); w.writeRawValue(key); w.endObject()
            }
            w.endObject()
        }
        w.endArray()
        w.endObject()
        w.endObject()
        return w.bytes
    }

    /// Sends one BatchWriteItem (once: the caller retries what comes back)
    /// and returns the writes the service did not apply.
    public func batchWriteItem(table: String, writes: [WriteRequest], retrying: Bool = true)
        throws(AWSClientError) -> [WriteRequest] {
        let requestBody = Self.batchWriteBody(table: table, writes: writes)
        let body = retrying ? try json.call("BatchWriteItem", body: requestBody)
                            : try json.attempt("BatchWriteItem", body: requestBody)
        return try Self.unprocessedItems(in: body, table: table, client: json)
    }

    static func unprocessedItems(in body: [UInt8], table: String, client: AWSJSONClient) throws(AWSClientError) -> [WriteRequest] {
        let view = try client.view(body, operation: "BatchWriteItem")
        guard let entries = view["UnprocessedItems"]?[table]?.elements, !entries.isEmpty else { return [] }
        var out: [WriteRequest] = []
        for entry in entries {
            if let item = entry["PutRequest"]?["Item"] {
                out.append(.put(item: item.rawBytes))
            } else if let key = entry["DeleteRequest"]?["Key"] {
                out.append(.delete(key: key.rawBytes))
            } else {
                throw client.invalid("BatchWriteItem", "UnprocessedItems entry is neither PutRequest nor DeleteRequest")
            }
        }
        return out
    }

    public func listTables() throws(AWSClientError) -> [String] {
        var names: [String] = []
        var start: String?
        repeat {
            var m: [(key: String, value: JSONValue)] = []
            if let start { m.append(("ExclusiveStartTableName", .string(start))) }
            let body = try json.call("ListTables", body: JSONValue.object(m).serialized())
            let page = try decode("ListTables", body) { v in
                ((v["TableNames"]?.arrayValue ?? []).compactMap(\.stringValue), v["LastEvaluatedTableName"]?.stringValue)
            }
            names += page.0
            start = page.1
        } while start != nil
        return names
    }

    // MARK: decoding helpers

    private func decode<T>(_ operation: String, _ body: [UInt8], _ read: (JSONValue) throws -> T) throws(AWSClientError) -> T {
        do {
            return try read(try JSONValue.parse(body))
        } catch let f as DecodeFailure {
            throw json.invalid(operation, f.detail)
        } catch {
            throw json.invalid(operation, "\(error)")
        }
    }

    private func decode<T>(_ operation: String, _ view: JSONView, _ read: (JSONView) throws -> T) throws(AWSClientError) -> T {
        do {
            return try read(view)
        } catch let f as DecodeFailure {
            throw json.invalid(operation, f.detail)
        } catch {
            throw json.invalid(operation, "\(error)")
        }
    }
}

func required(_ json: JSONValue, _ key: String) throws -> JSONValue {
    guard let value = json[key] else { throw DecodeFailure("\(key) missing") }
    return value
}
