import DynamoModel

/// What a stream record carries, as DynamoDB's `StreamViewType`.
public enum StandInStreamView: String, Sendable, Hashable, CaseIterable {
    case keysOnly = "KEYS_ONLY"
    case newImage = "NEW_IMAGE"
    case oldImage = "OLD_IMAGE"
    case newAndOldImages = "NEW_AND_OLD_IMAGES"

    var carriesNewImage: Bool { self == .newImage || self == .newAndOldImages }
    var carriesOldImage: Bool { self == .oldImage || self == .newAndOldImages }
}

/// The type of a key attribute (`AttributeType` in `AttributeDefinitions`).
public enum StandInKeyType: String, Sendable, Hashable {
    case string = "S"
    case number = "N"
    case binary = "B"
}

/// A table to create in the stand-in.
///
///     StandInTableSpec("orders", partitionKey: "pk", sortKey: "sk", sortKeyType: .number,
///                      stream: .newAndOldImages, shardCount: 4)
public struct StandInTableSpec: Sendable, Hashable {
    public var name: String
    public var partitionKey: String
    public var partitionKeyType: StandInKeyType
    public var sortKey: String?
    public var sortKeyType: StandInKeyType
    /// nil: the table has no stream.
    public var stream: StandInStreamView?
    /// Open shards the stream starts with; keys are spread over them by hash.
    public var shardCount: Int

    public init(
        _ name: String, partitionKey: String = "pk", partitionKeyType: StandInKeyType = .string,
        sortKey: String? = nil, sortKeyType: StandInKeyType = .string,
        stream: StandInStreamView? = .newAndOldImages, shardCount: Int = 1
    ) {
        self.name = name
        self.partitionKey = partitionKey
        self.partitionKeyType = partitionKeyType
        self.sortKey = sortKey
        self.sortKeyType = sortKeyType
        self.stream = stream
        self.shardCount = shardCount
    }

    /// The key schema as the data model uses it.
    public var keySchema: KeySchema { KeySchema(partitionKey: partitionKey, sortKey: sortKey) }

    func keyType(of attribute: String) -> StandInKeyType? {
        if attribute == partitionKey { return partitionKeyType }
        if attribute == sortKey { return sortKeyType }
        return nil
    }
}
