import DynamoModel

/// Everything the stand-in holds, behind one lock: tables, streams,
/// iterator bookkeeping, counters that order writes.
struct StandInState {
    var tables: [String: TableState] = [:]
    /// Stream ARN → table name.
    var streamTables: [String: String] = [:]
    /// Shard id → (table name, shard).
    var shards: [String: (table: String, shard: ShardState)] = [:]
    var nextSequence: UInt128
    let sequenceStep: UInt128
    var shardsCreated = 0
    var iteratorsIssued = 0
    var expiredIteratorSerials: Set<Int> = []
    /// Iterators with a serial number below this are expired.
    var iteratorsExpireBelowSerial = 0
    var writesApplied = 0
    var recordsWritten = 0
    var recordsAnswered = 0
    let anomalies: StandInSequenceAnomalies
    /// Alternator's stream behaviour, or nil for DynamoDB's.
    let alternator: StandInAlternatorStreams?

    init(configuration: StandInConfiguration) {
        nextSequence = configuration.firstSequenceNumber
        sequenceStep = max(1, configuration.sequenceNumberStep)
        anomalies = configuration.sequenceAnomalies
        alternator = configuration.alternatorStreams
    }

    mutating func allocateSequence() -> UInt128 {
        defer { nextSequence += sequenceStep }
        return nextSequence
    }

    // MARK: - Streams and shards

    /// Starts a stream on `table` with `shardCount` open shards (Alternator's
    /// count in its mode) that split the key hashes between them.
    mutating func startStream(on table: TableState, view: StandInStreamView, shardCount: Int, now: Double, region: String) {
        let label = WallClock.streamLabel(now)
        let stream = StreamState(arn: "\(table.arn)/stream/\(label)", label: label, view: view, createdAt: now)
        table.stream = stream
        streamTables[stream.arn] = table.spec.name
        let count = alternator.map { min(20_000, $0.shardsPerStream) } ?? shardCount
        for range in (UInt64.min...UInt64.max).split(into: max(1, count)) {
            addShard(to: stream, table: table.spec.name, parent: nil, hashRange: range, now: now)
        }
    }

    @discardableResult
    mutating func addShard(
        to stream: StreamState, table: String, parent: String?, hashRange: ClosedRange<UInt64>?, now: Double
    ) -> ShardState {
        shardsCreated += 1
        // Zero-padded, so text order of ids is creation order, as DescribeStream pages by id.
        let number = String(1_700_000_000_000 + shardsCreated)
        var random = SplitMix64(seed: UInt64(shardsCreated))
        let id = "shardId-" + String(repeating: "0", count: 20 - number.count) + number + "-"
            + String(StreamRecordEncoder.hex(random.next()).prefix(8))
        let shard = ShardState(id: id, parentID: parent, hashRange: hashRange, startingSequence: nextSequence, createdAt: now)
        stream.add(shard)
        shards[id] = (table, shard)
        return shard
    }

    /// Closes `shard` and opens `count` children that split its key hashes.
    mutating func split(_ shardID: String, into count: Int, now: Double) throws(StandInError) -> [String] {
        guard let (tableName, shard) = shards[shardID], let stream = tables[tableName]?.stream else {
            throw StandInError(.shardNotFound, "no shard \(shardID)")
        }
        guard shard.isOpen else { throw StandInError(.shardClosed, "shard \(shardID) is already closed") }
        if let range = shard.hashRange {
            guard count >= 1 else {
                throw StandInError(.invalidArgument, "a shard that receives table writes needs at least one child")
            }
            guard UInt64(count - 1) <= range.upperBound - range.lowerBound else {
                throw StandInError(.invalidArgument, "shard \(shardID) is too narrow to split into \(count)")
            }
        } else {
            guard count >= 0 else { throw StandInError(.invalidArgument, "negative child count") }
        }
        shard.close(at: now, fallback: allocateSequence())
        var children: [String] = []
        if let range = shard.hashRange {
            for piece in range.split(into: count) {
                children.append(addShard(to: stream, table: tableName, parent: shardID, hashRange: piece, now: now).id)
            }
        } else {
            for _ in 0..<count {
                children.append(addShard(to: stream, table: tableName, parent: shardID, hashRange: nil, now: now).id)
            }
        }
        return children
    }

    // MARK: - Writes

    /// Applies checked writes to `table` in order: stores them, logs them,
    /// and appends a stream record for each one that changed the table.
    mutating func apply(
        _ writes: [ParsedWrite], to table: TableState, operation: StandInOperation?, byService: Bool = false,
        now: Double, configuration: StandInConfiguration
    ) {
        for write in writes {
            let old = table.store(write)
            writesApplied += 1
            if configuration.keepsWriteLog {
                let kind: StandInAppliedWrite.Kind = write.raw != nil ? .put : (byService ? .ttlDelete : .delete)
                table.writeLog.append(StandInAppliedWrite(
                    order: writesApplied, table: table.spec.name, kind: kind, key: write.key.attributes,
                    itemBytes: write.raw, operation: operation, keyBytes: write.key.bytes))
            }
            guard let stream = table.stream else { continue }
            if let raw = write.raw, operation != .updateItem, alternator?.putAsRemoveThenModify ?? false {
                // Alternator writes a put as a row tombstone just below the
                // new row; CDC shows both, with one CDC time (adjacent).
                guard let shard = stream.openShard(forHash: write.key.stableHash) else { continue }
                let keys = Self.sortedJSON(write.key.attributes)
                appendRecord(to: shard, stream: stream, event: .remove, keys: keys, newImage: nil,
                             oldImage: old?.raw[...], byService: false, now: now, region: configuration.region)
                appendRecord(to: shard, stream: stream, event: .modify, keys: keys, newImage: raw[...],
                             oldImage: nil, byService: false, now: now, region: configuration.region)
                continue
            }
            let event: StreamRecordEncoder.EventName
            if let raw = write.raw {
                if let old {
                    // DynamoDB writes no record for a put that changes nothing.
                    if Self.sameItem(old.raw, raw) { continue }
                    event = .modify
                } else {
                    event = .insert
                }
            } else {
                guard old != nil else { continue }
                event = .remove
            }
            guard let shard = stream.openShard(forHash: write.key.stableHash) else { continue }
            appendRecord(
                to: shard, stream: stream, event: event, keys: Self.sortedJSON(write.key.attributes),
                newImage: write.raw?[...], oldImage: old?.raw[...], byService: byService, now: now,
                region: configuration.region)
        }
    }

    mutating func appendRecord(
        to shard: ShardState, stream: StreamState, event: StreamRecordEncoder.EventName, keys: [UInt8],
        newImage: ArraySlice<UInt8>?, oldImage: ArraySlice<UInt8>?, byService: Bool, now: Double, region: String
    ) {
        recordsWritten += 1
        var sequence: UInt128
        let previous = shard.lastSequence
        if let previous, anomalies.repeatEvery > 0, recordsWritten % anomalies.repeatEvery == 0 {
            sequence = previous
        } else if let previous, previous > shard.startingSequence, anomalies.fallEvery > 0,
                  recordsWritten % anomalies.fallEvery == 0 {
            sequence = previous - 1
        } else {
            sequence = allocateSequence()
        }
        // Alternator's TTL deletes are plain deletes: no userIdentity.
        let bytes = StreamRecordEncoder.encode(
            event: event, sequence: sequence, serial: recordsWritten, created: now, keys: keys, newImage: newImage,
            oldImage: oldImage, view: stream.view, region: region, byService: byService && alternator == nil)
        shard.append(StoredRecord(sequence: sequence, created: now, bytes: bytes))
    }

    /// An item (or key) as DynamoDB JSON with sorted names, so equal items give equal bytes.
    static func sortedJSON(_ key: Item) -> [UInt8] {
        var w = DynamoJSONWriter(capacity: 64)
        w.sortsKeys = true
        w.writeItem(key)
        return w.bytes
    }

    static func sameItem(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        if a == b { return true }
        guard let x = try? DynamoJSONReader.readItem(a), let y = try? DynamoJSONReader.readItem(b) else { return false }
        return x.semanticallyEquals(y)
    }
}
