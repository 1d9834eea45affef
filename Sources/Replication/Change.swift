import DynamoModel

/// One change to apply to the target, as a writer lane sees it.
public struct Change: Sendable {
    public enum Kind: Sendable, Equatable {
        /// Put the full item; `payload` is the item's DynamoDB JSON.
        case put
        /// Delete by key; `payload` is the key's DynamoDB JSON.
        case delete
        /// An UpdateItem request body (`modify-as: update`); it cannot go
        /// into a BatchWriteItem, so the lane sends it alone, in order.
        case update
    }

    /// Where a change came from, so its acknowledgement reaches the right
    /// watermark (a stream shard or an export file).
    public struct Origin: Sendable, Hashable {
        public var source: String
        public var sequence: SequenceNumber
        /// The record's place in its source's issue order (``Watermark``):
        /// what the acknowledgement names.
        public var ticket: Int
        public init(source: String, sequence: SequenceNumber, ticket: Int) {
            self.source = source
            self.sequence = sequence
            self.ticket = ticket
        }
    }

    public var kind: Kind
    /// The primary key: it picks the lane (``ItemKey/lane(count:)``) and
    /// merges changes of one key in a batch.
    public var key: ItemKey
    public var payload: [UInt8]
    public var origin: Origin?

    public init(kind: Kind, key: ItemKey, payload: [UInt8], origin: Origin? = nil) {
        self.kind = kind
        self.key = key
        self.payload = payload
        self.origin = origin
    }
}
