import DynamoModel

/// BatchWriteItem: the sink's hot path. Each write is found in the request
/// buffer by ``BatchWriteScanner`` (one pass; only the key attributes are
/// decoded) and stored as the raw bytes it arrived as.
extension StandInCore {
    private struct Entry {
        /// Position in the request, counted over all tables.
        let position: Int
        /// The whole `{"PutRequest":…}` element, for UnprocessedItems.
        let element: Range<Int>
        let isPut: Bool
        /// The item of a put, the key of a delete.
        let value: Range<Int>
        let key: ItemKey
    }

    private struct Group {
        let table: String
        var entries: [Entry]
    }

    func batchWriteItem(_ request: JSONView) throws -> [UInt8] {
        let buffer = request.buffer
        let groups = try Self.fastGroups(self, request) ?? generalGroups(request)
        let total = groups.reduce(0) { $0 + $1.entries.count }
        let limit = configuration.batchWriteLimit
        guard total > 0, total <= limit, groups.allSatisfy({ !$0.entries.isEmpty }) else {
            throw ServiceError.validation("1 validation error detected: Value at 'requestItems' failed to satisfy constraint: Map value must satisfy constraint: [Member must have length less than or equal to \(limit), Member must have length greater than or equal to 1]")
        }
        for group in groups {
            var seen = Set<[UInt8]>(minimumCapacity: group.entries.count)
            for entry in group.entries where !seen.insert(entry.key.bytes).inserted {
                throw ServiceError.validation("Provided list of item keys contains duplicates")
            }
        }
        let rules = faults.withLock { $0.rejectRules(for: .batchWriteItem) }
        if !rules.isEmpty {
            let items = groups.flatMap { $0.entries.filter(\.isPut).compactMap { try? JSONView(buffer, range: $0.value) } }
            try checkRejectRules(.batchWriteItem, items)
        }
        let selection = faults.withLock { $0.unprocessedSelection() }

        var applied: [(table: String, writes: [ParsedWrite])] = []
        var unprocessed: [(table: String, elements: [Range<Int>])] = []
        var puts = 0, deletes = 0, bytes = 0
        for group in groups {
            var writes: [ParsedWrite] = []
            var kept: [Range<Int>] = []
            for entry in group.entries {
                if let selection, selection.contains(entry.position) {
                    kept.append(entry.element)
                    continue
                }
                if entry.isPut {
                    puts += 1
                    bytes += entry.value.count
                } else {
                    deletes += 1
                }
                if !configuration.sinkMode {
                    writes.append(ParsedWrite(key: entry.key, raw: entry.isPut ? Array(buffer[entry.value]) : nil))
                }
            }
            if !writes.isEmpty { applied.append((group.table, writes)) }
            if !kept.isEmpty { unprocessed.append((group.table, kept)) }
        }
        if !applied.isEmpty { try apply(applied, operation: .batchWriteItem) }
        count(puts: puts, deletes: deletes, bytes: bytes)

        if unprocessed.isEmpty { return Self.nothingUnprocessed }
        var w = DynamoJSONWriter(capacity: request.rawRange.count + 32)
        w.beginObject()
        w.writeKey("UnprocessedItems"); w.beginObject()
        for group in unprocessed {
            w.writeKey(group.table); w.beginArray()
            for element in group.elements { w.writeRawValue(buffer[element]) }
            w.endArray()
        }
        w.endObject()
        w.endObject()
        return w.bytes
    }

    private static let nothingUnprocessed = Array(#"{"UnprocessedItems":{}}"#.utf8)

    /// The one-pass path; nil when the request's shape needs the general one.
    private static func fastGroups(_ core: StandInCore, _ request: JSONView) throws(ServiceError) -> [Group]? {
        let buffer = request.buffer
        guard let scanned = try BatchWriteScanner.scan(buffer, range: request.rawRange, spec: { name throws(ServiceError) in
            try core.spec(of: name)
        }) else { return nil }
        var position = 0
        var groups: [Group] = []
        groups.reserveCapacity(scanned.count)
        for group in scanned {
            var entries: [Entry] = []
            entries.reserveCapacity(group.writes.count)
            for write in group.writes {
                if write.isPut {
                    try core.checkPut(buffer, write.value)
                } else if write.memberCount != group.spec.keySchema.attributeNames.count {
                    throw ServiceError.validation("The provided key element does not match the schema")
                }
                let key = try core.key(in: buffer, partition: write.partitionKey, sort: write.sortKey, spec: group.spec,
                                       role: write.isPut ? "item" : "key element")
                entries.append(Entry(position: position, element: write.element, isPut: write.isPut, value: write.value, key: key))
                position += 1
            }
            groups.append(Group(table: group.table, entries: entries))
        }
        return groups
    }

    /// The path through ``JSONView`` lookups, for any request shape.
    private func generalGroups(_ request: JSONView) throws(ServiceError) -> [Group] {
        guard let requestItems = request["RequestItems"], requestItems.kind == .object else {
            throw ServiceError.validation("1 validation error detected: Value null at 'requestItems' failed to satisfy constraint: Member must not be null")
        }
        var tables: [(name: String, writes: JSONView)] = []
        requestItems.forEachMember { tables.append(($0, $1)) }
        var position = 0
        var groups: [Group] = []
        for (name, writes) in tables {
            let spec = try spec(of: name)
            var entries: [Entry] = []
            for element in writes.elements {
                let entry: Entry
                if let item = element["PutRequest"]?["Item"] {
                    let write = try parsePut(item, spec: spec)
                    entry = Entry(position: position, element: element.rawRange, isPut: true, value: item.rawRange, key: write.key)
                } else if let key = element["DeleteRequest"]?["Key"] {
                    entry = Entry(position: position, element: element.rawRange, isPut: false, value: key.rawRange,
                                  key: try parseKey(key, spec: spec))
                } else {
                    throw ServiceError.validation("Supplied AttributeValue has neither a PutRequest nor a DeleteRequest")
                }
                entries.append(entry)
                position += 1
            }
            groups.append(Group(table: name, entries: entries))
        }
        return groups
    }
}
