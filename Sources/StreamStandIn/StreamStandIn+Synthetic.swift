import DynamoModel

/// How ``StreamStandIn/appendSynthetic(shard:count:itemBytes:pattern:)``
/// chooses keys and events.
///
/// Record `i` (0-based) of a call uses key number `firstKeyIndex + i` (or
/// `firstKeyIndex + i % keyCount` when keys cycle). A key's first record
/// in the call is an INSERT, later ones MODIFY; with `removeEvery = n`
/// every n-th record (1-based) whose key exists is a REMOVE instead, and
/// the key's next record is an INSERT again. Events are worked out per
/// call (or from the table when `appliesToTable` is set).
public struct StandInSyntheticPattern: Sendable, Hashable {
    /// Distinct keys to cycle through; nil gives every record its own key
    /// (all INSERTs).
    public var keyCount: Int?
    /// Every n-th record removes its key; 0 never does.
    public var removeEvery: Int
    /// Removals are TTL expiries (`userIdentity` set).
    public var removesByTTL: Bool
    /// A string partition key is `"<keyPrefix><n>"`; a number key is `n`.
    /// Give each shard its own prefix or `firstKeyIndex` range so keys do
    /// not meet in two shards.
    public var keyPrefix: String
    public var firstKeyIndex: Int
    /// Also store each record's outcome in the table, so the table ends as
    /// the stream says and a replica can be compared with it. Off by
    /// default: a long benchmark stream would hold every item twice.
    public var appliesToTable: Bool

    public init(
        keyCount: Int? = nil, removeEvery: Int = 0, removesByTTL: Bool = false, keyPrefix: String = "k",
        firstKeyIndex: Int = 0, appliesToTable: Bool = false
    ) {
        self.keyCount = keyCount
        self.removeEvery = removeEvery
        self.removesByTTL = removesByTTL
        self.keyPrefix = keyPrefix
        self.firstKeyIndex = firstKeyIndex
        self.appliesToTable = appliesToTable
    }
}

/// The sequence numbers a call appended.
public struct StandInSequenceRange: Sendable, Hashable {
    public let first: String
    public let last: String
    public let count: Int
}

extension StreamStandIn {
    /// Appends `count` generated records to an open shard, cheaply: each
    /// record's JSON is built once here, and GetRecords only concatenates.
    /// Items have the table's key attributes, a `version` number (the record's
    /// index in the call) and a `payload` string that brings the item's
    /// DynamoDB JSON to about `itemBytes` bytes.
    @discardableResult
    public func appendSynthetic(
        shard shardID: String, count: Int, itemBytes: Int = 1024,
        pattern: StandInSyntheticPattern = StandInSyntheticPattern()
    ) throws(StandInError) -> StandInSequenceRange {
        guard count >= 1 else { throw StandInError(.invalidArgument, "count must be at least 1") }
        if let keyCount = pattern.keyCount, keyCount < 1 {
            throw StandInError(.invalidArgument, "keyCount must be at least 1")
        }
        let now = core.now()
        let region = configuration.region
        return try core.state.withLock { state throws(StandInError) -> StandInSequenceRange in
            let (shard, table, stream) = try state.openShard(shardID)
            var factory = SyntheticItemFactory(spec: table.spec, prefix: pattern.keyPrefix, itemBytes: itemBytes)
            var live: [Int: [UInt8]] = [:]
            shard.reserveCapacity(count)
            var first: UInt128?
            for i in 0..<count {
                let number = pattern.firstKeyIndex + (pattern.keyCount.map { i % $0 } ?? i)
                let key = factory.key(number)
                var old = live[number]
                if old == nil, pattern.appliesToTable {
                    old = table.items[key.itemKey.bytes]?.raw
                }
                let removes = pattern.removeEvery > 0 && (i + 1) % pattern.removeEvery == 0 && old != nil
                if removes {
                    state.appendRecord(
                        to: shard, stream: stream, event: .remove, keys: key.json, newImage: nil, oldImage: old?[...],
                        byService: pattern.removesByTTL, now: now, region: region)
                    live[number] = nil
                    if pattern.appliesToTable { _ = table.store(ParsedWrite(key: key.itemKey, raw: nil)) }
                } else {
                    let item = factory.item(key: key, version: i)
                    state.appendRecord(
                        to: shard, stream: stream, event: old == nil ? .insert : .modify, keys: key.json,
                        newImage: item[...], oldImage: old?[...], byService: false, now: now, region: region)
                    if pattern.keyCount != nil { live[number] = item }
                    if pattern.appliesToTable { _ = table.store(ParsedWrite(key: key.itemKey, raw: item)) }
                }
                if first == nil { first = shard.records.last!.sequence }
            }
            return StandInSequenceRange(
                first: SequenceNumberText.format(first!),
                last: SequenceNumberText.format(shard.records.last!.sequence), count: count)
        }
    }
}

/// Builds synthetic keys and items from byte templates.
struct SyntheticItemFactory {
    struct Key {
        let itemKey: ItemKey
        /// The key attributes as DynamoDB JSON, sorted.
        let json: [UInt8]
    }

    let spec: StandInTableSpec
    let prefix: String
    let itemBytes: Int
    private let filler: [UInt8]

    init(spec: StandInTableSpec, prefix: String, itemBytes: Int) {
        self.spec = spec
        self.prefix = prefix
        self.itemBytes = itemBytes
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789".utf8)
        filler = (0..<max(0, itemBytes)).map { alphabet[$0 % alphabet.count] }
    }

    mutating func key(_ number: Int) -> Key {
        var attributes: Item = [spec.partitionKey: Self.value(spec.partitionKeyType, prefix, number)]
        if let sortKey = spec.sortKey {
            attributes[sortKey] = Self.value(spec.sortKeyType, "s", 1)
        }
        // The values are non-empty and of the declared types, so the key is valid.
        let itemKey = try! spec.keySchema.key(of: attributes)
        return Key(itemKey: itemKey, json: StandInState.sortedJSON(attributes))
    }

    /// `{<key attributes>,"payload":{"S":"…"},"version":{"N":"<version>"}}`.
    func item(key: Key, version: Int) -> [UInt8] {
        let versionText = String(version)
        let head = #","payload":{"S":""#.utf8
        let tail = #""},"version":{"N":""#.utf8
        let end = #""}}"#.utf8
        let fixed = key.json.count - 1 + head.count + tail.count + versionText.utf8.count + end.count
        let fill = min(filler.count, max(0, itemBytes - fixed))
        var bytes: [UInt8] = []
        bytes.reserveCapacity(fixed + fill)
        bytes.append(contentsOf: key.json.dropLast())
        bytes.append(contentsOf: head)
        bytes.append(contentsOf: filler[0..<fill])
        bytes.append(contentsOf: tail)
        bytes.append(contentsOf: versionText.utf8)
        bytes.append(contentsOf: end)
        return bytes
    }

    private static func value(_ type: StandInKeyType, _ prefix: String, _ number: Int) -> AttributeValue {
        switch type {
        case .string: .s(prefix + String(number))
        case .number: .n(String(number))
        case .binary: .b(Array((prefix + String(number)).utf8))
        }
    }
}
