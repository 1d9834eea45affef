import DynamoModel

/// CreateTable, DeleteTable, DescribeTable, UpdateTable, ListTables.
extension StandInCore {
    func createTable(_ request: JSONView) throws -> [UInt8] {
        let name = try request.requiredString("TableName")
        var types: [String: StandInKeyType] = [:]
        request["AttributeDefinitions"]?.forEachElement { definition in
            if let attribute = definition["AttributeName"]?.string,
               let type = definition["AttributeType"]?.string.flatMap(StandInKeyType.init(rawValue:)) {
                types[attribute] = type
            }
        }
        var hash: String?
        var range: String?
        request["KeySchema"]?.forEachElement { element in
            switch element["KeyType"]?.string {
            case "HASH": hash = element["AttributeName"]?.string
            case "RANGE": range = element["AttributeName"]?.string
            default: break
            }
        }
        guard let hash, let hashType = types[hash] else {
            throw ServiceError.validation("One or more parameter values were invalid: the KeySchema needs a HASH key defined in AttributeDefinitions")
        }
        var spec = StandInTableSpec(name, partitionKey: hash, partitionKeyType: hashType, stream: nil)
        if let range {
            guard let rangeType = types[range] else {
                throw ServiceError.validation("One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions")
            }
            spec.sortKey = range
            spec.sortKeyType = rangeType
        }
        if let specification = request["StreamSpecification"], specification["StreamEnabled"]?.bool == true {
            guard let view = specification["StreamViewType"]?.string.flatMap(StandInStreamView.init(rawValue:)) else {
                throw ServiceError.validation("StreamViewType must be KEYS_ONLY, NEW_IMAGE, OLD_IMAGE or NEW_AND_OLD_IMAGES")
            }
            spec.stream = view
        }
        let now = self.now()
        return try state.withLock { state throws(ServiceError) -> [UInt8] in
            do {
                try state.createTable(spec, now: now, configuration: configuration)
            } catch {
                throw ServiceError("ResourceInUseException", "Table already exists: \(name)")
            }
            return Self.tableDescription(state.tables[name]!, wrapper: "TableDescription")
        }
    }

    func deleteTable(_ request: JSONView) throws -> [UInt8] {
        let name = try request.requiredString("TableName")
        return try state.withLock { state throws(ServiceError) -> [UInt8] in
            guard let table = state.tables[name] else { throw Self.tableNotFound(name) }
            let description = Self.tableDescription(table, wrapper: "TableDescription", status: "DELETING")
            state.dropTable(name)
            return description
        }
    }

    func describeTable(_ request: JSONView) throws -> [UInt8] {
        let name = try request.requiredString("TableName")
        return try state.withLock { state throws(ServiceError) -> [UInt8] in
            guard let table = state.tables[name] else { throw Self.tableNotFound(name) }
            return Self.tableDescription(table, wrapper: "Table")
        }
    }

    /// Only the StreamSpecification part: turning a stream on or off.
    func updateTable(_ request: JSONView) throws -> [UInt8] {
        let name = try request.requiredString("TableName")
        let specification = request["StreamSpecification"]
        let now = self.now()
        return try state.withLock { state throws(ServiceError) -> [UInt8] in
            guard let table = state.tables[name] else { throw Self.tableNotFound(name) }
            if let specification {
                if specification["StreamEnabled"]?.bool == true {
                    guard table.stream == nil else {
                        throw ServiceError.validation("Table already has an enabled stream: \(table.arn)")
                    }
                    guard let view = specification["StreamViewType"]?.string.flatMap(StandInStreamView.init(rawValue:)) else {
                        throw ServiceError.validation("StreamViewType must be KEYS_ONLY, NEW_IMAGE, OLD_IMAGE or NEW_AND_OLD_IMAGES")
                    }
                    state.startStream(on: table, view: view, shardCount: 1, now: now, region: configuration.region)
                } else {
                    guard table.stream != nil else { throw ServiceError.validation("Table has no stream to disable") }
                    state.stopStream(of: table)
                }
            }
            return Self.tableDescription(table, wrapper: "TableDescription")
        }
    }

    func listTables(_ request: JSONView) throws -> [UInt8] {
        let start = request["ExclusiveStartTableName"]?.string
        let limit = min(100, max(1, try request.optionalInt("Limit") ?? 100))
        let names = state.withLock { $0.tables.keys.sorted() }.filter { start == nil || $0 > start! }
        var w = DynamoJSONWriter()
        w.beginObject()
        w.writeKey("TableNames"); w.beginArray()
        for name in names.prefix(limit) { w.writeString(name) }
        w.endArray()
        if names.count > limit { w.writeKey("LastEvaluatedTableName"); w.writeString(names[limit - 1]) }
        w.endObject()
        return w.bytes
    }

    // MARK: - Shared

    static func tableNotFound(_ name: String) -> ServiceError {
        .notFound("Requested resource not found: Table: \(name) not found")
    }

    static func tableDescription(_ table: TableState, wrapper: String, status: String = "ACTIVE") -> [UInt8] {
        let spec = table.spec
        var w = DynamoJSONWriter(capacity: 1024)
        w.beginObject()
        w.writeKey(wrapper)
        w.beginObject()
        w.writeKey("AttributeDefinitions"); w.beginArray()
        for name in spec.keySchema.attributeNames {
            w.beginObject()
            w.writeKey("AttributeName"); w.writeString(name)
            w.writeKey("AttributeType"); w.writeString(spec.keyType(of: name)!.rawValue)
            w.endObject()
        }
        w.endArray()
        w.writeKey("BillingModeSummary"); w.beginObject()
        w.writeKey("BillingMode"); w.writeString("PAY_PER_REQUEST")
        w.endObject()
        w.writeKey("CreationDateTime"); w.writeInt(Int(table.createdAt))
        w.writeKey("ItemCount"); w.writeInt(table.items.count)
        w.writeKey("KeySchema"); w.beginArray()
        for name in spec.keySchema.attributeNames {
            w.beginObject()
            w.writeKey("AttributeName"); w.writeString(name)
            w.writeKey("KeyType"); w.writeString(name == spec.partitionKey ? "HASH" : "RANGE")
            w.endObject()
        }
        w.endArray()
        if let stream = table.stream {
            w.writeKey("LatestStreamArn"); w.writeString(stream.arn)
            w.writeKey("LatestStreamLabel"); w.writeString(stream.label)
        }
        w.writeKey("ProvisionedThroughput"); w.beginObject()
        w.writeKey("NumberOfDecreasesToday"); w.writeInt(0)
        w.writeKey("ReadCapacityUnits"); w.writeInt(0)
        w.writeKey("WriteCapacityUnits"); w.writeInt(0)
        w.endObject()
        if let stream = table.stream {
            w.writeKey("StreamSpecification"); w.beginObject()
            w.writeKey("StreamEnabled"); w.writeBool(true)
            w.writeKey("StreamViewType"); w.writeString(stream.view.rawValue)
            w.endObject()
        }
        w.writeKey("TableArn"); w.writeString(table.arn)
        w.writeKey("TableName"); w.writeString(spec.name)
        w.writeKey("TableSizeBytes"); w.writeInt(table.byteCount)
        w.writeKey("TableStatus"); w.writeString(status)
        w.endObject()
        w.endObject()
        return w.bytes
    }
}

extension StandInState {
    mutating func createTable(_ spec: StandInTableSpec, now: Double, configuration: StandInConfiguration) throws(StandInError) {
        guard !spec.name.isEmpty else { throw StandInError(.invalidArgument, "a table needs a name") }
        guard spec.sortKey != spec.partitionKey else {
            throw StandInError(.invalidArgument, "partition and sort key must differ")
        }
        guard (1...20_000).contains(spec.shardCount) else {
            throw StandInError(.invalidArgument, "shardCount must be 1...20000")
        }
        guard tables[spec.name] == nil else { throw StandInError(.tableExists, "table \(spec.name) exists") }
        let arn = "arn:aws:dynamodb:\(configuration.region):\(configuration.accountID):table/\(spec.name)"
        let table = TableState(spec: spec, arn: arn, createdAt: now)
        tables[spec.name] = table
        if let view = spec.stream {
            startStream(on: table, view: view, shardCount: spec.shardCount, now: now, region: configuration.region)
        }
    }

    mutating func stopStream(of table: TableState) {
        guard let stream = table.stream else { return }
        for shard in stream.shards { shards[shard.id] = nil }
        streamTables[stream.arn] = nil
        table.stream = nil
    }

    mutating func dropTable(_ name: String) {
        guard let table = tables[name] else { return }
        stopStream(of: table)
        tables[name] = nil
    }
}
