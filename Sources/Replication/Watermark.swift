/// Tracks which of one shard's (or one backfill unit's) records the target
/// has acknowledged and yields the checkpoint: the sequence number at or
/// below which every record handed out has been acknowledged.
///
/// Records of one shard are spread over several writer lanes by key, and
/// lanes finish out of order; a checkpoint past a record still in flight
/// would lose it on a crash. Records are registered with ``issue(_:eventID:createdAt:)``
/// in the order they were read and get a ticket: their place in that order.
/// ``acknowledge(ticket:)`` may come in any order and costs O(1): no search,
/// no hashing of sequence numbers.
///
/// Tracking by issue order, not by sequence number, matters when a stream
/// breaks its ordering contract (moto hands out one number twice when two
/// clients write at once): two records with one number are two entries, and
/// each is acknowledged on its own. The checkpoint never moves back.
///
/// Pure logic, not thread-safe: its owner calls it under one lock.
public struct Watermark: Sendable {
    struct Entry: Sendable {
        var seq: SequenceNumber
        var acked: Bool
        var createdAt: Double?
    }

    /// Hashes of the eventIDs of the last records issued (a ring that grows
    /// to `recentCapacity`): a page delivered again is recognised by them.
    /// 8 bytes a record, so a busy shard costs 16 KB and an idle one nothing.
    private var recent: [UInt64] = []
    private var recentNext = 0
    static let recentCapacity = 2048

    /// Entries issued and not yet popped into `checkpoint`, in issue order;
    /// `pending[head]` has ticket `firstTicket`.
    private var pending: [Entry] = []
    private var head = 0
    private var firstTicket = 0
    private var unacknowledged = 0
    /// The highest sequence number issued (acknowledged or not).
    public private(set) var highestIssued: SequenceNumber?

    /// Every record at or below this is applied. nil: nothing yet.
    public private(set) var checkpoint: SequenceNumber?

    public init(checkpoint: SequenceNumber? = nil) {
        self.checkpoint = checkpoint
        self.highestIssued = checkpoint
    }

    /// Records handed out and not yet acknowledged.
    public var inFlight: Int { unacknowledged }

    /// The ticket the next issued record will get.
    public var nextTicket: Int { firstTicket + pending.count - head }

    /// Registers a record about to be handed to a lane and returns its
    /// ticket. Replay detection is the caller's (``isReplay(_:eventID:floor:)``).
    /// - Parameter createdAt: the record's creation time (seconds since
    ///   1970), for the lag of the oldest record still in flight.
    @discardableResult
    public mutating func issue(_ seq: SequenceNumber, eventID: String? = nil, createdAt: Double? = nil) -> Int {
        let ticket = nextTicket
        pending.append(Entry(seq: seq, acked: false, createdAt: createdAt))
        unacknowledged += 1
        if let eventID {
            let h = Self.hash(eventID)
            if recent.count < Self.recentCapacity {
                recent.append(h)
            } else {
                recent[recentNext] = h
                recentNext = (recentNext + 1) % Self.recentCapacity
            }
        }
        if highestIssued.map({ seq > $0 }) ?? true { highestIssued = seq }
        return ticket
    }

    /// Whether a record read now was already handed out: at or below
    /// `floor` (the position its iterator chain was asked for, or the
    /// checkpoint when the chain began), or one of the last eventIDs issued.
    /// A record above everything issued so far is new without a look at the
    /// eventIDs, so the search costs only when a stream repeats or lowers
    /// its numbers.
    ///
    /// The live checkpoint is no test within a chain: a new record whose
    /// number falls below one already applied (at a page boundary, say) is new.
    public func isReplay(_ seq: SequenceNumber, eventID: String?, floor: SequenceNumber?) -> Bool {
        if let floor, seq <= floor { return true }
        guard let highestIssued, seq <= highestIssued, let eventID else { return false }
        return recent.contains(Self.hash(eventID))
    }

    /// FNV-1a, 64 bits: cheap for a 32-character eventID, and a collision
    /// (about 1 in 10^16 per pair) would be needed to mistake a new record
    /// for a replay.
    static func hash(_ text: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            h ^= UInt64(byte)
            h = h &* 0x0000_0100_0000_01B3
        }
        return h
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

    /// Marks the record with `ticket` as applied; advances the checkpoint
    /// over the longest acknowledged prefix. Unknown or repeated tickets
    /// are ignored.
    public mutating func acknowledge(ticket: Int) {
        let index = head + (ticket - firstTicket)
        guard ticket >= firstTicket, index < pending.count, !pending[index].acked else { return }
        pending[index].acked = true
        unacknowledged -= 1
        guard index == head else { return }
        while head < pending.count, pending[head].acked {
            let seq = pending[head].seq
            if checkpoint.map({ seq > $0 }) ?? true { checkpoint = seq }
            head += 1
            firstTicket += 1
        }
        // Compact now and then so the array does not grow without bound.
        if head == pending.count {
            pending.removeAll(keepingCapacity: true)
            head = 0
        } else if head > 1024, head * 2 > pending.count {
            pending.removeFirst(head)
            head = 0
        }
    }
}
