import DynamoModel

/// One write as the stand-in applied it, for tests that check per-key order.
public struct StandInAppliedWrite: Sendable {
    public enum Kind: String, Sendable, Hashable {
        case put
        case delete
        /// A deletion by TTL (``StreamStandIn/expireItem(table:key:)``).
        case ttlDelete = "ttl_delete"
    }

    /// 1-based position among all writes the stand-in applied, over all tables.
    public let order: Int
    public let table: String
    public let kind: Kind
    /// The key attributes.
    public let key: Item
    /// The item written by a put, as DynamoDB JSON; nil for deletes.
    public let itemBytes: [UInt8]?
    /// The operation that carried the write; nil for the test API.
    public let operation: StandInOperation?
    let keyBytes: [UInt8]

    /// The item written by a put, decoded.
    public var item: Item? { itemBytes.flatMap { try? DynamoJSONReader.readItem($0) } }
}
