/// The primary key of a table: a partition key and an optional sort key.
///
/// It extracts keys from items, in memory or straight from DynamoDB JSON
/// bytes (decoding only the key attributes), as an ``ItemKey`` whose
/// canonical bytes pick the writer lane and identify changes to coalesce.
///
///     let schema = KeySchema(partitionKey: "pk", sortKey: "sk")
///     let key = try schema.key(ofItemIn: line, range: image.rawRange)  // validates the whole item
///     let lane = key.lane(count: lanes.count)
///     writer.writeItem(key.attributes)                                   // a DeleteRequest's Key
public struct KeySchema: Sendable, Hashable {
    /// The partition (hash) key attribute name.
    public var partitionKey: String
    /// The sort (range) key attribute name, if the table has one.
    public var sortKey: String?

    /// A schema with the given key attribute names.
    public init(partitionKey: String, sortKey: String? = nil) {
        self.partitionKey = partitionKey
        self.sortKey = sortKey
    }

    /// The key attribute names: partition key first.
    public var attributeNames: [String] {
        if let sortKey { return [partitionKey, sortKey] }
        return [partitionKey]
    }

    /// The key of an in-memory item.
    ///
    /// - Throws: ``DynamoJSONError`` with code `.invalidKey` (and no offset)
    ///   when a key attribute is missing, not `S`/`N`/`B`, empty, or an
    ///   invalid number.
    public func key(of item: Item) throws -> ItemKey {
        try makeKey(item, offset: nil)
    }

    /// Only the key attributes of `item`, checked as in ``key(of:)``.
    public func keyItem(of item: Item) throws -> Item {
        try key(of: item).attributes
    }

    /// The canonical key bytes of `item`; see ``ItemKey/bytes``.
    public func keyBytes(of item: Item) throws -> [UInt8] {
        try key(of: item).bytes
    }

    /// The key of the DynamoDB JSON item in `bytes[range]` (all of `bytes`
    /// when `range` is `nil`), decoding only the key attributes. The whole
    /// item is validated as by ``DynamoJSONValidator`` in the same pass, so
    /// the bytes can then be copied into a request unchanged.
    ///
    /// - Throws: ``DynamoJSONError``: `.invalidJSON`/`.invalidItem` for bad
    ///   bytes, `.invalidKey` (offset: the item's start) for a bad key.
    public func key(ofItemIn bytes: [UInt8], range: Range<Int>? = nil) throws -> ItemKey {
        let decoded = try DynamoJSONValidator.validateItem(bytes, range: range, decoding: attributeNames)
        return try makeKey(decoded, offset: range?.lowerBound ?? 0)
    }

    func makeKey(_ item: Item, offset: Int?) throws -> ItemKey {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(64)
        try appendKeyAttribute(partitionKey, "partition", item, offset, &bytes)
        if let sortKey {
            try appendKeyAttribute(sortKey, "sort", item, offset, &bytes)
        }
        // Reuse the item when it holds nothing but the key (always so on the
        // raw path), rather than building a second dictionary.
        let attributes: Item
        if item.count == (sortKey == nil ? 1 : 2) {
            attributes = item
        } else {
            var keyOnly = Item(minimumCapacity: 2)
            keyOnly[partitionKey] = item[partitionKey]
            if let sortKey { keyOnly[sortKey] = item[sortKey] }
            attributes = keyOnly
        }
        return ItemKey(attributes: attributes, bytes: bytes)
    }

    private func appendKeyAttribute(
        _ name: String, _ role: String, _ item: Item, _ offset: Int?, _ bytes: inout [UInt8]
    ) throws {
        guard let value = item[name] else {
            throw DynamoJSONError(.invalidKey, at: offset, "missing \(role) key attribute")
        }
        try ItemKey.append(value, role: role, offset: offset, to: &bytes)
    }
}
