/// Tracks which of one shard's records the target has acknowledged and
/// yields the checkpoint: the highest sequence number at or below which
/// every record handed out has been acknowledged.
///
/// Records of one shard are spread over several writer lanes by key, and
/// lanes finish out of order; a checkpoint past a record still in flight
/// would lose it on a crash. Records are registered in stream order with
/// ``issue(_:)``; ``acknowledge(_:)`` may come in any order.
///
/// Pure logic, not thread-safe: its owner (the shard's coordinator) calls it
/// from one queue.
public struct Watermark: Sendable {
    /// Sequence numbers issued and not yet acknowledged, in stream order,
    /// each with whether it has been acknowledged. Acknowledged entries at
    /// the front are popped into `checkpoint`.
    private var pending: [(seq: SequenceNumber, acked: Bool, createdAt: Double?)] = []
    private var head = 0
    private var unacknowledged = 0

    /// Every record at or below this is applied. nil: nothing yet.
    public private(set) var checkpoint: SequenceNumber?

    public init(checkpoint: SequenceNumber? = nil) { self.checkpoint = checkpoint }

    /// Records handed out and not yet acknowledged.
    public var inFlight: Int { unacknowledged }

    /// Registers a record about to be handed to a lane. Sequence numbers
    /// must rise; a repeat or an older one (a replay after an iterator was
    /// renewed) returns false and must not be sent again.
    /// - Parameter createdAt: the record's creation time (seconds since
    ///   1970), for the lag of the oldest record still in flight.
    public mutating func issue(_ seq: SequenceNumber, createdAt: Double? = nil) -> Bool {
        if let last = pending.last?.seq ?? checkpoint, seq <= last { return false }
        pending.append((seq, false, createdAt))
        unacknowledged += 1
        return true
    }

    /// The creation time of the oldest record not yet acknowledged.
    public var oldestInFlightCreatedAt: Double? {
        var i = head
        while i < pending.count {
            if !pending[i].acked { return pending[i].createdAt }
            i += 1
        }
        return nil
    }

    /// The last sequence number handed out (acknowledged or not).
    public var lastIssued: SequenceNumber? { pending.last?.seq ?? checkpoint }

    /// Marks several records as applied.
    public mutating func acknowledge(contentsOf sequences: [SequenceNumber]) {
        for seq in sequences { acknowledge(seq) }
    }

    /// Marks a record as applied by the target; advances the checkpoint over
    /// the longest acknowledged prefix.
    public mutating func acknowledge(_ seq: SequenceNumber) {
        // Pending entries are in rising order: find this one by binary
        // search (cheaper than hashing a 20-odd digit key per record).
        var low = head, high = pending.count
        while low < high {
            let mid = (low + high) / 2
            if pending[mid].seq < seq { low = mid + 1 } else { high = mid }
        }
        guard low < pending.count, pending[low].seq == seq, !pending[low].acked else { return }
        pending[low].acked = true
        unacknowledged -= 1
        while head < pending.count, pending[head].acked {
            checkpoint = pending[head].seq
            head += 1
        }
        // Compact now and then so the array does not grow without bound.
        if head > 1024, head * 2 > pending.count {
            pending.removeFirst(head)
            head = 0
        }
    }
}
