import DynamoModel

/// PutItem, DeleteItem, GetItem, UpdateItem, BatchGetItem, and the checks
/// every write shares.
extension StandInCore {
    func putItem(_ request: JSONView) throws -> [UInt8] {
        let name = try request.requiredString("TableName")
        try Self.refuseUnsupported(request, ["Expected", "ConditionalOperator"])
        try Self.requireNoReturnValues(request)
        guard let item = request["Item"] else { throw ServiceError.validation("Item must not be null") }
        let spec = try spec(of: name)
        let write = try parsePut(item, spec: spec)
        try checkRejectRules(.putItem, [item])
        if let condition = try Self.condition(request) {
            try commitIf(condition, table: name, write: write, operation: .putItem)
        } else {
            try commit([(name, [write])], operation: .putItem)
        }
        return Array("{}".utf8)
    }

    /// The request's ConditionExpression with its values, if it has one.
    static func condition(_ request: JSONView) throws -> (StandInCondition, Item)? {
        guard let text = request["ConditionExpression"]?.string else { return nil }
        let condition = try StandInCondition(text, names: try request.stringMap("ExpressionAttributeNames"))
        let values: Item
        do {
            values = try request["ExpressionAttributeValues"]?.readItem() ?? [:]
        } catch {
            throw ServiceError.validation("ExpressionAttributeValues contains invalid value: \(error)")
        }
        return (condition, values)
    }

    /// One write, applied only when the condition holds on the stored item,
    /// checked and written under one lock (as DynamoDB does, atomically).
    func commitIf(_ condition: (StandInCondition, Item), table name: String, write: ParsedWrite,
                  operation: StandInOperation) throws {
        let now = self.now()
        try state.withLock { state throws(ServiceError) in
            guard let table = state.tables[name] else { throw Self.tableNotFound(name) }
            let stored = try table.items[write.key.bytes].map { old throws(ServiceError) -> Item in
                guard let decoded = try? DynamoJSONReader.readItem(old.raw) else { throw ServiceError.internalError() }
                return decoded
            }
            guard try condition.0.holds(on: stored, values: condition.1) else { throw StandInCondition.failed() }
            if !configuration.sinkMode {
                state.apply([write], to: table, operation: operation, now: now, configuration: configuration)
            }
        }
    }

    func deleteItem(_ request: JSONView) throws -> [UInt8] {
        let name = try request.requiredString("TableName")
        try Self.refuseUnsupported(request, ["Expected", "ConditionalOperator"])
        try Self.requireNoReturnValues(request)
        guard let key = request["Key"] else { throw ServiceError.validation("Key must not be null") }
        let spec = try spec(of: name)
        let write = ParsedWrite(key: try parseKey(key, spec: spec), raw: nil)
        if let condition = try Self.condition(request) {
            try commitIf(condition, table: name, write: write, operation: .deleteItem)
        } else {
            try commit([(name, [write])], operation: .deleteItem)
        }
        return Array("{}".utf8)
    }

    func getItem(_ request: JSONView) throws -> [UInt8] {
        let name = try request.requiredString("TableName")
        try Self.refuseUnsupported(request, ["ProjectionExpression", "AttributesToGet"])
        guard let keyView = request["Key"] else { throw ServiceError.validation("Key must not be null") }
        let key = try parseKey(keyView, spec: try spec(of: name))
        let raw = try state.withLock { state throws(ServiceError) -> [UInt8]? in
            guard let table = state.tables[name] else { throw Self.tableNotFound(name) }
            return table.items[key.bytes]?.raw
        }
        guard let raw else { return Array("{}".utf8) }
        var w = DynamoJSONWriter(capacity: raw.count + 16)
        w.beginObject()
        w.writeKey("Item"); w.writeRawValue(raw)
        w.endObject()
        return w.bytes
    }

    /// `SET`/`REMOVE` on top-level attributes; see ``UpdateExpression``.
    func updateItem(_ request: JSONView) throws -> [UInt8] {
        let name = try request.requiredString("TableName")
        try Self.refuseUnsupported(request, ["Expected", "ConditionalOperator", "AttributeUpdates"])
        let condition = try Self.condition(request)
        try Self.requireNoReturnValues(request)
        guard let keyView = request["Key"] else { throw ServiceError.validation("Key must not be null") }
        let spec = try spec(of: name)
        let key = try parseKey(keyView, spec: spec)
        let expression = try UpdateExpression(try request.requiredString("UpdateExpression"),
                                              names: try request.stringMap("ExpressionAttributeNames"),
                                              alsoUsed: condition?.0.namePlaceholders ?? [])
        let values: Item
        do {
            values = try request["ExpressionAttributeValues"]?.readItem() ?? [:]
        } catch {
            throw ServiceError.validation("ExpressionAttributeValues contains invalid value: \(error)")
        }
        let now = self.now()
        let sink = configuration.sinkMode
        try state.withLock { state throws(ServiceError) in
            guard let table = state.tables[name] else { throw Self.tableNotFound(name) }
            var item = key.attributes
            var stored: Item?
            if let old = table.items[key.bytes] {
                guard let decoded = try? DynamoJSONReader.readItem(old.raw) else { throw ServiceError.internalError() }
                item = decoded
                stored = decoded
            }
            if let condition, try !condition.0.holds(on: stored, values: condition.1) { throw StandInCondition.failed() }
            let updated = try expression.apply(to: item, values: values, keyNames: spec.keySchema.attributeNames,
                                               alsoUsed: condition?.0.valuePlaceholders ?? [])
            let raw = StandInState.sortedJSON(updated)
            let view: JSONView
            do { view = try JSONView(raw) } catch { throw ServiceError.internalError() }
            try checkSize(view)
            try checkRejectRules(.updateItem, [view])
            if !sink {
                state.apply([ParsedWrite(key: key, raw: raw)], to: table, operation: .updateItem, now: now,
                            configuration: configuration)
            }
        }
        counters.withLock { $0.sink.puts += 1 }
        return Array("{}".utf8)
    }

    func batchGetItem(_ request: JSONView) throws -> [UInt8] {
        guard let requestItems = request["RequestItems"], requestItems.kind == .object else {
            throw ServiceError.validation("RequestItems must not be null")
        }
        var asked: [(table: String, keys: [ItemKey])] = []
        var total = 0
        var failure: ServiceError?
        requestItems.forEachMember { name, entry in
            guard failure == nil else { return }
            do throws(ServiceError) {
                try Self.refuseUnsupported(entry, ["ProjectionExpression", "AttributesToGet"])
                let spec = try spec(of: name)
                var keys: [ItemKey] = []
                var seen: Set<[UInt8]> = []
                for keyView in entry["Keys"]?.elements ?? [] {
                    let key = try parseKey(keyView, spec: spec)
                    guard seen.insert(key.bytes).inserted else {
                        throw ServiceError.validation("Provided list of item keys contains duplicates")
                    }
                    keys.append(key)
                }
                total += keys.count
                asked.append((name, keys))
            } catch {
                failure = error
            }
        }
        if let failure { throw failure }
        guard total > 0 else { throw ServiceError.validation("The requestItems parameter needs at least one key") }
        guard total <= configuration.maxBatchGetKeys else {
            throw ServiceError.validation("Too many items requested for the BatchGetItem call")
        }
        let found = try state.withLock { state throws(ServiceError) -> [(String, [[UInt8]])] in
            try asked.map { entry throws(ServiceError) -> (String, [[UInt8]]) in
                guard let table = state.tables[entry.table] else { throw Self.tableNotFound(entry.table) }
                return (entry.table, entry.keys.compactMap { table.items[$0.bytes]?.raw })
            }
        }
        var w = DynamoJSONWriter()
        w.beginObject()
        w.writeKey("Responses"); w.beginObject()
        for (name, items) in found {
            w.writeKey(name); w.beginArray()
            for raw in items { w.writeRawValue(raw) }
            w.endArray()
        }
        w.endObject()
        w.writeKey("UnprocessedKeys"); w.beginObject(); w.endObject()
        w.endObject()
        return w.bytes
    }

    // MARK: - Shared checks

    /// The spec of table `name`, read under the lock and used outside it.
    func spec(of name: String) throws(ServiceError) -> StandInTableSpec {
        try state.withLock { state throws(ServiceError) -> StandInTableSpec in
            guard let table = state.tables[name] else { throw Self.tableNotFound(name) }
            return table.spec
        }
    }

    /// A `Key` object: exactly the key attributes, of the declared types.
    func parseKey(_ view: JSONView, spec: StandInTableSpec) throws(ServiceError) -> ItemKey {
        guard view.kind == .object else { throw ServiceError.validation("The provided key element does not match the schema") }
        var members = 0
        view.forEachMember { _, _ in members += 1 }
        guard members == spec.keySchema.attributeNames.count else {
            throw ServiceError.validation("The provided key element does not match the schema")
        }
        return try keyOf(view, spec: spec, role: "key element")
    }

    /// A put's item: checked (size, DynamoDB JSON, key) and copied.
    func parsePut(_ view: JSONView, spec: StandInTableSpec) throws(ServiceError) -> ParsedWrite {
        guard view.kind == .object else { throw ServiceError.validation("Item must be an object") }
        try checkPut(view.buffer, view.rawRange)
        return ParsedWrite(key: try keyOf(view, spec: spec, role: "item"), raw: Array(view.rawBytes))
    }

    /// The size limit and, if configured, the DynamoDB JSON rules.
    func checkPut(_ buffer: [UInt8], _ range: Range<Int>) throws(ServiceError) {
        guard range.count <= configuration.maxItemBytes else {
            throw ServiceError.validation("Item size has exceeded the maximum allowed size")
        }
        if configuration.validatesItems {
            do {
                try DynamoJSONValidator.validateItem(buffer, range: range)
            } catch {
                throw ServiceError.validation("One or more parameter values were invalid: \(error)")
            }
        }
    }

    func checkSize(_ item: JSONView) throws(ServiceError) {
        guard item.rawRange.count <= configuration.maxItemBytes else {
            throw ServiceError.validation("Item size has exceeded the maximum allowed size")
        }
    }

    private func keyOf(_ view: JSONView, spec: StandInTableSpec, role: String) throws(ServiceError) -> ItemKey {
        try key(in: view.buffer, partition: view[spec.partitionKey]?.rawRange,
                sort: spec.sortKey.flatMap { view[$0]?.rawRange }, spec: spec, role: role)
    }

    /// Decodes only the key attributes, whose values are at these ranges of
    /// `buffer`, and checks them against the schema.
    func key(
        in buffer: [UInt8], partition: Range<Int>?, sort: Range<Int>?, spec: StandInTableSpec, role: String
    ) throws(ServiceError) -> ItemKey {
        var attributes = Item(minimumCapacity: 2)
        for (name, range) in [(spec.partitionKey, partition), (spec.sortKey, sort)] {
            guard let name else { continue }
            guard let range else {
                throw ServiceError.validation("One or more parameter values were invalid: Missing the key \(name) in the \(role)")
            }
            let value: AttributeValue
            do {
                value = try DynamoJSONReader.readAttributeValue(buffer, range: range)
            } catch {
                throw ServiceError.validation("One or more parameter values were invalid: \(error)")
            }
            let expected = spec.keyType(of: name)!.rawValue
            guard value.typeTag == expected else {
                throw ServiceError.validation("One or more parameter values were invalid: Type mismatch for key \(name) expected: \(expected) actual: \(value.typeTag)")
            }
            attributes[name] = value
        }
        do {
            return try spec.keySchema.key(of: attributes)
        } catch {
            throw ServiceError.validation("One or more parameter values were invalid: \(error)")
        }
    }

    /// Throws the ValidationException of the first reject rule that matches
    /// one of `items` and fires.
    func checkRejectRules(_ operation: StandInOperation, _ items: [JSONView]) throws(ServiceError) {
        let rules = faults.withLock { $0.rejectRules(for: operation) }
        for rule in rules where items.contains(where: rule.predicate.matches) {
            if faults.withLock({ $0.fireReject(rule.id) }) {
                throw ServiceError.validation("One or more parameter values were invalid: the item was refused (stand-in reject rule)")
            }
        }
    }

    /// Applies checked writes and counts them; in sink mode only counts.
    func commit(_ groups: [(table: String, writes: [ParsedWrite])], operation: StandInOperation) throws(ServiceError) {
        if !configuration.sinkMode { try apply(groups, operation: operation) }
        var puts = 0, deletes = 0, bytes = 0
        for group in groups {
            for write in group.writes {
                if let raw = write.raw {
                    puts += 1
                    bytes += raw.count
                } else {
                    deletes += 1
                }
            }
        }
        count(puts: puts, deletes: deletes, bytes: bytes)
    }

    /// Applies checked writes, table by table, under one lock.
    func apply(_ groups: [(table: String, writes: [ParsedWrite])], operation: StandInOperation) throws(ServiceError) {
        let now = self.now()
        try state.withLock { state throws(ServiceError) in
            for group in groups where state.tables[group.table] == nil { throw Self.tableNotFound(group.table) }
            for group in groups {
                state.apply(group.writes, to: state.tables[group.table]!, operation: operation, now: now,
                            configuration: configuration)
            }
        }
    }

    func count(puts: Int, deletes: Int, bytes: Int) {
        counters.withLock {
            $0.sink.puts += puts
            $0.sink.deletes += deletes
            $0.sink.itemBytes += bytes
        }
    }

    static func refuseUnsupported(_ request: JSONView, _ names: [String]) throws(ServiceError) {
        for name in names where request[name] != nil {
            throw ServiceError.validation("\(name) is not supported by the stand-in")
        }
    }

    static func requireNoReturnValues(_ request: JSONView) throws(ServiceError) {
        if let value = request["ReturnValues"]?.string, value != "NONE" {
            throw ServiceError.validation("ReturnValues \(value) is not supported by the stand-in")
        }
    }
}
