import DynamoModel

/// The writes of one BatchWriteItem request being gathered by a lane.
///
/// BatchWriteItem refuses two requests for one key, and only the last
/// change of a key matters for the end state, so a later change of a key
/// replaces the earlier one in place. Every origin is still kept: the
/// replaced change is applied (superseded) when the batch is, and its
/// acknowledgement must not be lost.
public struct Batch: Sendable {
    public private(set) var writes: [Change] = []
    /// Origins of every change taken in, replaced ones included.
    public private(set) var origins: [Change.Origin] = []
    private var slotOfKey: [ItemKey: Int] = [:]
    public let capacity: Int

    public init(capacity: Int) {
        precondition(capacity > 0)
        self.capacity = capacity
    }

    public var isEmpty: Bool { writes.isEmpty }
    public var isFull: Bool { writes.count >= capacity }
    /// Changes taken in, replaced ones included.
    public var changeCount: Int { origins.count }

    /// Adds a put or delete. Returns false when the batch is full and the key
    /// is new (the caller sends the batch first). Updates never go in.
    public mutating func add(_ change: Change) -> Bool {
        precondition(change.kind != .update, "updates are sent one by one")
        if let slot = slotOfKey[change.key] {
            writes[slot] = change
        } else {
            guard !isFull else { return false }
            slotOfKey[change.key] = writes.count
            writes.append(change)
        }
        if let origin = change.origin { origins.append(origin) }
        return true
    }

    /// Keeps only the writes whose keys are listed (the target's
    /// UnprocessedItems), for the retry. Origins stay: they are acknowledged
    /// only when the whole batch has been applied.
    public mutating func retain(keys: Set<ItemKey>) {
        writes = writes.filter { keys.contains($0.key) }
        slotOfKey = [:]
        for (i, w) in writes.enumerated() { slotOfKey[w.key] = i }
    }

    /// Drops a write the target refused for good (it goes to the dead-letter file).
    public mutating func remove(key: ItemKey) {
        retain(keys: Set(writes.map(\.key)).subtracting([key]))
    }

    /// The shards whose writes are in the batch.
    public var sources: Set<String> { Set(writes.lazy.compactMap { $0.origin?.source }) }

    /// Drops the writes and origins of every shard `admits` refuses (this
    /// worker lost its lease): they are neither sent nor acknowledged, and
    /// the shard's next owner applies them from its checkpoint.
    public mutating func withhold(unless admits: (String) -> Bool) {
        let refused = Set(origins.lazy.map(\.source)).filter { !admits($0) }
        guard !refused.isEmpty else { return }
        origins.removeAll { refused.contains($0.source) }
        writes.removeAll { $0.origin.map { refused.contains($0.source) } ?? false }
        slotOfKey = [:]
        for (i, w) in writes.enumerated() { slotOfKey[w.key] = i }
    }
}
