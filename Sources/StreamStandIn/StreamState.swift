/// One stored stream record: its encoded JSON, built once.
struct StoredRecord {
    let sequence: UInt128
    /// Seconds since 1970 (the stand-in's clock).
    let created: Double
    let bytes: [UInt8]
}

/// One shard of a stream. Owned by the stand-in's state lock.
///
/// Positions are absolute record indexes: record `i` of the shard's whole
/// history is `records[i - trimmedCount]`, so trimming the front does not
/// move the positions iterators hold.
final class ShardState {
    let id: String
    let parentID: String?
    /// The key hashes routed here while the shard is open; nil for a shard
    /// that only receives records appended through the test API.
    let hashRange: ClosedRange<UInt64>?
    let startingSequence: UInt128
    let createdAt: Double
    private(set) var endingSequence: UInt128?
    private(set) var closedAt: Double?
    private(set) var records: [StoredRecord] = []
    /// Records trimmed from the front so far.
    private(set) var trimmedCount = 0
    /// The highest sequence number trimmed away.
    private(set) var lastTrimmedSequence: UInt128?
    /// Closed and trimmed entirely: DescribeStream no longer lists it.
    private(set) var vanished = false

    init(id: String, parentID: String?, hashRange: ClosedRange<UInt64>?, startingSequence: UInt128, createdAt: Double) {
        self.id = id
        self.parentID = parentID
        self.hashRange = hashRange
        self.startingSequence = startingSequence
        self.createdAt = createdAt
    }

    var isOpen: Bool { endingSequence == nil }
    var lastSequence: UInt128? { records.last?.sequence }
    /// The position after the last record.
    var endIndex: Int { trimmedCount + records.count }

    func append(_ record: StoredRecord) {
        precondition(isOpen, "append to a closed shard")
        records.append(record)
    }

    func reserveCapacity(_ additional: Int) {
        records.reserveCapacity(records.count + additional)
    }

    /// Closes the shard; `fallback` is the ending sequence number of a shard
    /// that holds no record.
    func close(at time: Double, fallback: UInt128) {
        endingSequence = records.last?.sequence ?? lastTrimmedSequence ?? fallback
        closedAt = time
    }

    /// The records from `position` on, at most `limit` of them and at most
    /// `byteLimit` bytes (at least one record whatever its size), and only
    /// those created at or before `publishedBy` when it is given (records
    /// are appended in time order, so the first later one ends the page).
    func records(from position: Int, limit: Int, byteLimit: Int, publishedBy: Double? = nil) -> [StoredRecord] {
        let start = position - trimmedCount
        guard start < records.count else { return [] }
        var end = start
        var bytes = 0
        while end < records.count, end - start < limit {
            if let publishedBy, records[end].created > publishedBy { break }
            bytes += records[end].bytes.count + 1
            if bytes > byteLimit, end > start { break }
            end += 1
        }
        return Array(records[start..<end])
    }

    /// The position of the first record with a sequence number at (or
    /// after, when `after`) `sequence`.
    func position(of sequence: UInt128, after: Bool) -> Int {
        var low = 0
        var high = records.count
        while low < high {
            let mid = (low + high) / 2
            let s = records[mid].sequence
            if after ? s <= sequence : s < sequence { low = mid + 1 } else { high = mid }
        }
        return trimmedCount + low
    }

    /// Whether reading at (or after) `sequence` would need trimmed records.
    func isTrimmed(_ sequence: UInt128, after: Bool) -> Bool {
        guard let lastTrimmedSequence else { return false }
        return after ? sequence < lastTrimmedSequence : sequence <= lastTrimmedSequence
    }

    /// Drops the records `isGone` selects from the front, and vanishes if
    /// closed, empty and `closedGone` says its end is gone too.
    func trim(while isGone: (StoredRecord) -> Bool, closedGone: Bool) {
        var count = 0
        while count < records.count, isGone(records[count]) { count += 1 }
        if count > 0 {
            lastTrimmedSequence = records[count - 1].sequence
            records.removeFirst(count)
            trimmedCount += count
        }
        if !isOpen, records.isEmpty, closedGone { vanished = true }
    }
}

/// A table's stream: its shards in creation order. Owned by the state lock.
final class StreamState {
    let arn: String
    let label: String
    let view: StandInStreamView
    let createdAt: Double
    private(set) var shards: [ShardState] = []

    init(arn: String, label: String, view: StandInStreamView, createdAt: Double) {
        self.arn = arn
        self.label = label
        self.view = view
        self.createdAt = createdAt
    }

    func add(_ shard: ShardState) {
        shards.append(shard)
    }

    /// The open shard that receives writes of keys with this hash.
    func openShard(forHash hash: UInt64) -> ShardState? {
        shards.last { $0.isOpen && ($0.hashRange?.contains(hash) ?? false) }
    }

    /// Shards DescribeStream lists, in id order (which is creation order).
    var listedShards: [ShardState] { shards.filter { !$0.vanished } }
}

extension ClosedRange where Bound == UInt64 {
    /// The range cut into `count` nearly equal consecutive pieces.
    func split(into count: Int) -> [ClosedRange<UInt64>] {
        precondition(count > 0)
        let width = upperBound - lowerBound  // one less than the size, which may be 2^64
        let step = width / UInt64(count)
        var pieces: [ClosedRange<UInt64>] = []
        var start = lowerBound
        for index in 0..<count {
            let end = index == count - 1 ? upperBound : start + step - (step > 0 ? 1 : 0)
            pieces.append(start...end)
            if index < count - 1 { start = end + 1 }
        }
        return pieces
    }
}
