import DynamoModel

/// One shard as the test API sees it.
public struct StandInShardInfo: Sendable, Hashable {
    public let id: String
    public let parentID: String?
    public let startingSequenceNumber: String
    /// Set once the shard is closed.
    public let endingSequenceNumber: String?
    /// Records still held (not trimmed).
    public let recordCount: Int
    /// False once the shard is closed and trimmed away: DescribeStream no longer lists it.
    public let isListed: Bool
    /// Whether writes to the table land here (false for shards made by
    /// ``StreamStandIn/addShards(table:count:)`` and their children).
    public let receivesTableWrites: Bool

    public var isOpen: Bool { endingSequenceNumber == nil }
}

/// A record to append to a shard directly, without touching the table.
public enum StandInStreamEvent: Sendable {
    case insert(Item)
    case modify(old: Item, new: Item)
    /// The item removed (its old image; at least its key).
    case remove(Item)
    /// A removal by TTL: `userIdentity` names DynamoDB's own service.
    case ttlRemove(Item)
}

/// Shards: listing, adding, splitting, appending records, trimming.
extension StreamStandIn {
    /// Every shard of the table's stream, in creation order, trimmed ones included.
    public func shards(table: String) throws(StandInError) -> [StandInShardInfo] {
        try withStream(table) { _, _, stream in
            stream.shards.map { shard in
                StandInShardInfo(
                    id: shard.id, parentID: shard.parentID,
                    startingSequenceNumber: SequenceNumberText.format(shard.startingSequence),
                    endingSequenceNumber: shard.endingSequence.map(SequenceNumberText.format),
                    recordCount: shard.records.count, isListed: !shard.vanished,
                    receivesTableWrites: shard.hashRange != nil)
            }
        }
    }

    /// The ids of the open shards, in creation order.
    public func openShardIDs(table: String) throws(StandInError) -> [String] {
        try shards(table: table).filter(\.isOpen).map(\.id)
    }

    /// The open shard that a write of `key` goes to now.
    public func shardID(forKey key: Item, table: String) throws(StandInError) -> String {
        try withStream(table) { _, found, stream throws(StandInError) -> String in
            let itemKey: ItemKey
            do { itemKey = try found.schema.key(of: key) } catch { throw StandInError(.invalidItem, "\(error)") }
            guard let shard = stream.openShard(forHash: itemKey.stableHash) else {
                throw StandInError(.shardNotFound, "no open shard takes this key")
            }
            return shard.id
        }
    }

    /// Adds `count` open shards without a parent that receive only records
    /// appended through this API (``append(shard:_:)``,
    /// ``appendSynthetic(shard:count:itemBytes:pattern:)``): table writes
    /// keep going to the shards that hold their key range.
    public func addShards(table: String, count: Int) throws(StandInError) -> [String] {
        guard count >= 1 else { throw StandInError(.invalidArgument, "count must be at least 1") }
        let now = core.now()
        return try withStream(table) { state, _, stream in
            (0..<count).map { _ in state.addShard(to: stream, table: table, parent: nil, hashRange: nil, now: now).id }
        }
    }

    /// Closes the shard (its `EndingSequenceNumber` is its last record's)
    /// and opens `count` children with `ParentShardId` set, which split its
    /// key range: later writes of its keys land in a child. `count` 1 is
    /// DynamoDB's routine roll-over; 0 only closes a shard that takes no
    /// table writes.
    /// - Returns: the children's ids.
    @discardableResult
    public func splitShard(_ shardID: String, into count: Int = 2) throws(StandInError) -> [String] {
        let now = core.now()
        return try core.state.withLock { state throws(StandInError) -> [String] in
            try state.split(shardID, into: count, now: now)
        }
    }

    /// Appends records to an open shard, bypassing the table.
    /// - Returns: their sequence numbers.
    @discardableResult
    public func append(shard shardID: String, _ events: [StandInStreamEvent]) throws(StandInError) -> [String] {
        let now = core.now()
        let region = configuration.region
        return try core.state.withLock { state throws(StandInError) -> [String] in
            let (shard, table, stream) = try state.openShard(shardID)
            var sequences: [String] = []
            for event in events {
                let (keySource, newImage, oldImage, name): (Item, Item?, Item?, StreamRecordEncoder.EventName) =
                    switch event {
                    case .insert(let item): (item, item, nil, .insert)
                    case .modify(let old, let new): (new, new, old, .modify)
                    case .remove(let old), .ttlRemove(let old): (old, nil, old, .remove)
                    }
                let key: ItemKey
                do { key = try table.schema.key(of: keySource) } catch { throw StandInError(.invalidItem, "\(error)") }
                let byService = if case .ttlRemove = event { true } else { false }
                state.appendRecord(
                    to: shard, stream: stream, event: name, keys: StandInState.sortedJSON(key.attributes),
                    newImage: newImage.map { StandInState.sortedJSON($0)[...] }, oldImage: oldImage.map { StandInState.sortedJSON($0)[...] },
                    byService: byService, now: now, region: region)
                sequences.append(SequenceNumberText.format(shard.records.last!.sequence))
            }
            return sequences
        }
    }

    // MARK: - Trimming

    /// Trims every record with a sequence number below `sequenceNumber`:
    /// reading them gives `TrimmedDataAccessException`, and closed shards
    /// left empty vanish from DescribeStream.
    public func trim(table: String, before sequenceNumber: String) throws(StandInError) {
        guard let limit = SequenceNumberText.parse(sequenceNumber) else {
            throw StandInError(.invalidArgument, "not a sequence number")
        }
        try withStream(table) { _, _, stream in
            for shard in stream.shards {
                shard.trim(while: { $0.sequence < limit }, closedGone: shard.endingSequence.map { $0 < limit } ?? false)
            }
        }
    }

    /// Trims every record created more than `seconds` ago (by the stand-in's
    /// clock; see ``advanceClock(by:)``), as DynamoDB does after 24 hours.
    public func trim(table: String, olderThan seconds: Double) throws(StandInError) {
        let cutoff = core.now() - seconds
        try withStream(table) { _, _, stream in
            for shard in stream.shards {
                shard.trim(while: { $0.created < cutoff }, closedGone: shard.closedAt.map { $0 < cutoff } ?? false)
            }
        }
    }

    /// Trims every record written so far.
    public func trimAll(table: String) throws(StandInError) {
        let next = core.state.withLock { SequenceNumberText.format($0.nextSequence) }
        try trim(table: table, before: next)
    }
}

extension StandInState {
    /// An open shard with its table and stream, for appending.
    func openShard(_ shardID: String) throws(StandInError) -> (ShardState, TableState, StreamState) {
        guard let (tableName, shard) = shards[shardID], let table = tables[tableName], let stream = table.stream else {
            throw StandInError(.shardNotFound, "no shard \(shardID)")
        }
        guard shard.isOpen else { throw StandInError(.shardClosed, "shard \(shardID) is closed") }
        return (shard, table, stream)
    }
}
