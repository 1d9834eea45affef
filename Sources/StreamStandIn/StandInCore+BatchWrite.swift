import DynamoModel

/// BatchWriteItem: the sink's hot path. Each write is parsed straight from
/// the request buffer (only the key attributes are decoded) and stored as
/// the raw bytes it arrived as.
extension StandInCore {
    private struct Entry {
        /// Position in the request, counted over all tables.
        let position: Int
        /// The whole `{"PutRequest":…}` / `{"DeleteRequest":…}` element, for UnprocessedItems.
        let element: JSONView
        let write: ParsedWrite
        let item: JSONView?
    }

    func batchWriteItem(_ request: JSONView) throws -> [UInt8] {
        guard let requestItems = request["RequestItems"], requestItems.kind == .object else {
            throw ServiceError.validation("1 validation error detected: Value null at 'requestItems' failed to satisfy constraint: Member must not be null")
        }
        var groups: [(table: String, elements: [JSONView])] = []
        var total = 0
        requestItems.forEachMember { name, writes in
            let elements = writes.elements
            total += elements.count
            groups.append((name, elements))
        }
        let limit = configuration.batchWriteLimit
        guard total > 0, total <= limit, groups.allSatisfy({ !$0.elements.isEmpty }) else {
            throw ServiceError.validation("1 validation error detected: Value at 'requestItems' failed to satisfy constraint: Map value must satisfy constraint: [Member must have length less than or equal to \(limit), Member must have length greater than or equal to 1]")
        }
        let specs = try state.withLock { state throws(ServiceError) -> [StandInTableSpec] in
            try groups.map { group throws(ServiceError) -> StandInTableSpec in
                guard let table = state.tables[group.table] else { throw Self.tableNotFound(group.table) }
                return table.spec
            }
        }

        var parsed: [(table: String, entries: [Entry])] = []
        var position = 0
        for (index, group) in groups.enumerated() {
            var entries: [Entry] = []
            entries.reserveCapacity(group.elements.count)
            var seen = Set<[UInt8]>(minimumCapacity: group.elements.count)
            for element in group.elements {
                let entry: Entry
                if let item = element["PutRequest"]?["Item"] {
                    entry = Entry(position: position, element: element, write: try parsePut(item, spec: specs[index]), item: item)
                } else if let key = element["DeleteRequest"]?["Key"] {
                    entry = Entry(position: position, element: element,
                                  write: ParsedWrite(key: try parseKey(key, spec: specs[index]), raw: nil), item: nil)
                } else {
                    throw ServiceError.validation("Supplied AttributeValue has neither a PutRequest nor a DeleteRequest")
                }
                guard seen.insert(entry.write.key.bytes).inserted else {
                    throw ServiceError.validation("Provided list of item keys contains duplicates")
                }
                entries.append(entry)
                position += 1
            }
            parsed.append((group.table, entries))
        }

        try checkRejectRules(.batchWriteItem, parsed.flatMap { $0.entries.compactMap(\.item) })
        let selection = faults.withLock { $0.unprocessedSelection() }

        var applied: [(table: String, writes: [ParsedWrite])] = []
        var unprocessed: [(table: String, elements: [JSONView])] = []
        for group in parsed {
            guard let selection else {
                applied.append((group.table, group.entries.map(\.write)))
                continue
            }
            let kept = group.entries.filter { selection.contains($0.position) }
            let done = group.entries.filter { !selection.contains($0.position) }
            if !done.isEmpty { applied.append((group.table, done.map(\.write))) }
            if !kept.isEmpty { unprocessed.append((group.table, kept.map(\.element))) }
        }
        try commit(applied, operation: .batchWriteItem)

        var w = DynamoJSONWriter(capacity: unprocessed.isEmpty ? 32 : request.rawRange.count + 32)
        w.beginObject()
        w.writeKey("UnprocessedItems"); w.beginObject()
        for group in unprocessed {
            w.writeKey(group.table); w.beginArray()
            for element in group.elements { w.writeRawValue(element.rawBytes) }
            w.endArray()
        }
        w.endObject()
        w.endObject()
        return w.bytes
    }
}
