/// One shard as DescribeStream reports it.
public struct ShardDescriptor: Sendable, Equatable {
    public var id: String
    public var parentId: String?
    /// Present once the shard is closed (it will get no new records).
    public var endingSequence: SequenceNumber?

    public init(id: String, parentId: String? = nil, endingSequence: SequenceNumber? = nil) {
        self.id = id
        self.parentId = parentId
        self.endingSequence = endingSequence
    }
}

/// Where a shard is in Ferry's processing.
public enum ShardPhase: String, Sendable, Equatable, Codable {
    /// Known, not started: its parent is still being read.
    case waiting
    /// A reader is polling it.
    case reading
    /// Read to its end; every record handed to the lanes (maybe not applied yet).
    case drained
    /// Every record applied and checkpointed.
    case finished
}

/// Which shards may be read, keeping parent-before-child order.
///
/// A split or a re-shard closes a shard and opens children whose records
/// are later changes of the same keys. A child is read only after its
/// parent is drained, so a key's changes reach its writer lane in order
/// across the split. A parent that is no longer in the stream (aged out
/// after 24 hours) does not block its children: nothing of it can be read.
///
/// Pure logic; its owner calls it from one queue and performs the actions.
public struct ShardLineage: Sendable {
    public private(set) var phases: [String: ShardPhase] = [:]
    public private(set) var descriptors: [String: ShardDescriptor] = [:]

    /// - Parameter finished: shards the checkpoint says are done.
    public init(finished: some Sequence<String> = []) {
        for id in finished { phases[id] = .finished }
    }

    /// Merges a DescribeStream listing and returns the shards that may be
    /// started now, parents before children.
    public mutating func discovered(_ shards: [ShardDescriptor]) -> [String] {
        for shard in shards {
            descriptors[shard.id] = shard
            if phases[shard.id] == nil { phases[shard.id] = .waiting }
        }
        return startable()
    }

    /// The owner started a reader for `id`.
    public mutating func started(_ id: String) {
        if phases[id] == .waiting { phases[id] = .reading }
    }

    /// The reader reached the end of `id` and queued all its records.
    /// Returns the children that may start now.
    public mutating func drained(_ id: String) -> [String] {
        if phases[id] == .reading || phases[id] == .waiting { phases[id] = .drained }
        return startable()
    }

    /// Every record of `id` is applied and checkpointed.
    public mutating func finished(_ id: String) {
        phases[id] = .finished
    }

    /// Back to waiting (a lease moved): another worker reads it now.
    public mutating func restart(_ id: String) {
        phases[id] = .waiting
    }

    /// Drops a shard that aged out of the stream after it finished.
    public mutating func forget(_ id: String) {
        phases[id] = nil
        descriptors[id] = nil
    }

    /// Whether a shard's parent no longer holds it back.
    public func parentAllows(_ id: String) -> Bool {
        guard let parent = descriptors[id]?.parentId, let parentPhase = phases[parent] else { return true }
        // A parent only known from the checkpoint is finished; one that
        // aged out of the stream is absent and allows too.
        if descriptors[parent] == nil && parentPhase != .finished { return true }
        return parentPhase == .drained || parentPhase == .finished
    }

    /// Waiting shards whose parent allows them, ordered so that a parent
    /// comes before its children and otherwise by id (stable output).
    public func startable() -> [String] {
        phases.filter { $0.value == .waiting && parentAllows($0.key) }.map(\.key).sorted()
    }

    /// Shards not yet finished (for the status file and for shutdown).
    public var unfinished: [String] {
        phases.filter { $0.value != .finished }.map(\.key).sorted()
    }
}
