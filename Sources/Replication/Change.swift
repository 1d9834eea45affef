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
        public init(source: String, sequence: SequenceNumber) {
            self.source = source
            self.sequence = sequence
        }
    }

    public var kind: Kind
    /// The canonical bytes of the primary key (attribute order does not
    /// matter): it picks the lane and merges changes of one key in a batch.
    public var key: [UInt8]
    public var payload: [UInt8]
    public var origin: Origin?

    public init(kind: Kind, key: [UInt8], payload: [UInt8], origin: Origin? = nil) {
        self.kind = kind
        self.key = key
        self.payload = payload
        self.origin = origin
    }
}

/// Picks the writer lane of a key: FNV-1a over its canonical bytes, so the
/// same key always lands in the same lane and keeps its order.
public enum LaneRouter {
    public static func lane(for key: [UInt8], lanes: Int) -> Int {
        precondition(lanes > 0)
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in key {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        return Int(hash % UInt64(lanes))
    }
}
