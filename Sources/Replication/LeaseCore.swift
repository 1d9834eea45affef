/// The decisions of shard leases, with no I/O and no clock of its own:
/// which shards this worker takes, renews, steals and gives up, when it
/// must stop writing a shard, when checkpoints go into the rows and which
/// rows are deleted. Several Ferry hosts split one stream this way.
///
/// Safety rests on two rules. Every change to a row is a conditional write
/// (on owner and counter; checkpoints on owner), so the table never names
/// two owners. And a worker only takes a lease whose counter it has seen
/// stand still for `leaseSeconds` on its own clock, while the holder stops
/// writing well before that much time has passed since its last renewal
/// was sent, so the two never write the same shard at once. Only durations
/// on one host's clock are compared, never clocks of different hosts.
///
/// Events in (``tableRead(_:listed:now:)``, ``taken(_:now:)``,
/// ``renewed(_:counter:now:)``, ``checkpointMoved(_:to:)``, ``tick(now:)``…),
/// ``Action``s out, to be carried out in order. Times are seconds on this
/// host's monotonic clock, passed in. Not thread-safe: the shell keeps it
/// under one lock.
public struct LeaseCore: Sendable {
    public struct Options: Sendable {
        public var workerId: String
        /// How long a lease lasts without a renewal, measured by a would-be
        /// taker on its own clock from when it saw the counter change.
        public var leaseSeconds = 30.0
        /// The longest a request (to the target or to the lease table) may
        /// take before the shell aborts it.
        public var requestTimeout = 5.0
        /// How often the lease table is read (and the stream listed).
        public var scanInterval = 10.0
        /// The shortest pause between two checkpoint writes of one shard:
        /// the row is shared, each write is a conditional (LWT) write.
        public var checkpointInterval = 5.0
        /// The pause before a failed renewal or checkpoint write is retried.
        public var retryInterval = 1.0

        public init(workerId: String) { self.workerId = workerId }

        /// Renewals go out every third of a lease, so two can fail before
        /// the lease is at risk.
        public var renewInterval: Double { leaseSeconds / 3 }
        /// How long after sending its last successful renewal the holder
        /// may still send writes: the lease less a third (slack for clocks
        /// running at different rates) less one request timeout (a write
        /// sent just before the end may land that much later).
        /// 30 s leases and 5 s requests: 15 s.
        public var writeWindow: Double { leaseSeconds - (leaseSeconds / 3 + requestTimeout) }

        /// nil when the options work; otherwise what to change.
        public func validate() -> String? {
            guard !workerId.isEmpty else { return "lease worker id is empty: set a name unique to this host" }
            guard writeWindow > renewInterval else {
                return "lease_seconds (\(leaseSeconds)) must be more than three times the request timeout "
                    + "(\(requestTimeout)): otherwise writes stop before each renewal can return"
            }
            return nil
        }
    }

    /// What the shell carries out. Writes to the lease table are
    /// conditional; the shell answers each with the matching event.
    public enum Action: Sendable, Equatable {
        /// Read every row of the stream's lease table (and list the
        /// stream), then call ``tableRead(_:listed:now:)``.
        case readTable
        /// Put a row for a newly listed shard, if none exists yet.
        case createRow(LeaseRow)
        /// If owner and counter are as expected: owner = this worker,
        /// counter + 1. Answer with ``taken(_:now:)`` (the row as written)
        /// or ``takeFailed(_:)``.
        case take(shard: String, expectedOwner: String?, expectedCounter: Int)
        /// If owner is this worker and counter as expected: counter + 1.
        case renew(shard: String, expectedCounter: Int)
        /// If owner is this worker and counter as expected: owner = nil,
        /// counter + 1, checkpoint = `checkpoint`. Sent only after the
        /// shard's ``stopReading(shard:)`` is carried out.
        case release(shard: String, expectedCounter: Int, checkpoint: SequenceNumber?)
        /// If owner is this worker: checkpoint (and finished) as given.
        case writeCheckpoint(shard: String, sequence: SequenceNumber?, finished: Bool)
        /// If the row is finished: delete it.
        case deleteRow(shard: String)
        /// This worker now reads the shard, after `from` (nil: from its start).
        case startReading(shard: String, from: SequenceNumber?)
        /// Stop the shard now: drop its queued changes and abort its
        /// requests in flight before carrying out the next action.
        case stopReading(shard: String)
    }

    struct Lease: Sendable {
        var counter: Int
        /// When the take or renewal that wrote `counter` was sent. Counted
        /// from the send, since the write may land any time after it.
        var renewedAt: Double
        var renewSentAt: Double?
        var nextRenewAt: Double
        /// A stolen lease waits out the previous holder's writes first.
        var readFrom: Double
        var reading = false
        /// The row's checkpoint, as last written.
        var written: SequenceNumber?
        /// The highest applied position the replication side reported.
        var applied: SequenceNumber?
        var finishing = false
        /// Given up: stopped, and released once nothing of it is in flight.
        var releasing = false
        var checkpointSent: (sequence: SequenceNumber?, finished: Bool)?
        var checkpointSentAt = -Double.infinity
    }

    /// A row as last read, with when its owner or counter last changed on
    /// this worker's clock (first sight counts as a change).
    struct Seen: Sendable {
        var row: LeaseRow
        var changedAt: Double
        var unownedSince: Double?
    }

    public let options: Options
    var held: [String: Lease] = [:]
    var seen: [String: Seen] = [:]
    /// Takes sent and not answered: when, and whether from a live holder.
    var taking: [String: (sentAt: Double, stolen: Bool)] = [:]
    /// The shards of the latest complete listing of the stream.
    var listed: Set<String>?
    var nextScanAt = -Double.infinity
    var lastStealAt = -Double.infinity
    var lastReleaseAt = -Double.infinity
    var stopping = false

    public init(options: Options) { self.options = options }

    /// The shards this worker holds a lease on (reading or not).
    public var ownedShards: [String] { held.keys.sorted() }

    /// Whether changes of `shard` may still be sent to the target now:
    /// false before ``Action/startReading(shard:from:)`` and from the
    /// moment the write window of the last renewal has passed.
    public func mayWrite(_ shard: String, now: Double) -> Bool {
        guard let lease = held[shard], lease.reading else { return false }
        return now < lease.renewedAt + options.writeWindow
    }

    // MARK: - Time

    /// Due work: the table read, renewals, the end of write windows,
    /// stolen shards whose wait is over, and checkpoint writes.
    public mutating func tick(now: Double) -> [Action] {
        var actions: [Action] = []
        if now >= nextScanAt && !stopping {
            nextScanAt = now + options.scanInterval
            actions.append(.readTable)
        }
        for id in held.keys.sorted() {
            if held[id]?.releasing == true {
                actions += releaseIfIdle(id)
                continue
            }
            actions += enforceDeadline(id, now: now)
            guard var lease = held[id] else { continue }
            if lease.renewSentAt == nil && now >= lease.nextRenewAt {
                lease.renewSentAt = now
                actions.append(.renew(shard: id, expectedCounter: lease.counter))
            }
            if lease.reading, lease.checkpointSent == nil, lease.finishing || checkpointAhead(lease),
               now - lease.checkpointSentAt >= (lease.finishing ? options.retryInterval : options.checkpointInterval) {
                lease.checkpointSent = (lease.applied, lease.finishing)
                lease.checkpointSentAt = now
                actions.append(.writeCheckpoint(shard: id, sequence: lease.applied, finished: lease.finishing))
            }
            held[id] = lease
            actions += startIfDue(id, now: now)
        }
        return actions
    }

    // MARK: - Answers to takes and renewals

    /// A take succeeded; `row` is the row as written (the store returns it),
    /// so reading starts from its checkpoint as it stands after the take.
    public mutating func taken(_ row: LeaseRow, now: Double) -> [Action] {
        guard let take = taking.removeValue(forKey: row.shardId), row.owner == options.workerId else { return [] }
        let lease = Lease(counter: row.counter, renewedAt: take.sentAt, nextRenewAt: take.sentAt + options.renewInterval,
                          // A live holder may send writes for up to two
                          // thirds of a lease after its last renewal, which
                          // was sent before this take landed: a full lease
                          // from now leaves a third of slack.
                          readFrom: take.stolen ? now + options.leaseSeconds : now,
                          written: row.checkpoint, applied: row.checkpoint)
        held[row.shardId] = lease
        seen[row.shardId] = Seen(row: row, changedAt: now)
        return startIfDue(row.shardId, now: now)
    }

    /// The take's condition failed (someone was faster) or the store failed.
    public mutating func takeFailed(_ shard: String) {
        taking[shard] = nil
    }

    /// A renewal succeeded: `counter` is the row's new counter. A shard
    /// stopped for a missed window starts again, from its checkpoint.
    public mutating func renewed(_ shard: String, counter: Int, now: Double) -> [Action] {
        guard var lease = held[shard], let sent = lease.renewSentAt else { return [] }
        lease.renewSentAt = nil
        lease.counter = counter
        lease.renewedAt = sent
        lease.nextRenewAt = sent + options.renewInterval
        held[shard] = lease
        seen[shard]?.row.counter = counter
        seen[shard]?.changedAt = now
        return startIfDue(shard, now: now)
    }

    /// A renewal failed. `conditionFailed`: another worker holds the row
    /// now, so the shard stops at once; otherwise it is retried, and the
    /// shard stops when its write window ends.
    public mutating func renewFailed(_ shard: String, conditionFailed: Bool, now: Double) -> [Action] {
        guard var lease = held[shard] else { return [] }
        if conditionFailed { return lose(shard) }
        lease.renewSentAt = nil
        lease.nextRenewAt = now + options.retryInterval
        held[shard] = lease
        return enforceDeadline(shard, now: now)
    }

    /// Shutdown: every shard stops, then its lease is released with its
    /// applied checkpoint, so other workers take it at once instead of
    /// waiting for it to expire. Leases with a renewal or checkpoint write
    /// in flight are released at the tick after its answer: keep ticking
    /// until ``ownedShards`` is empty (or a lease has passed). Nothing is
    /// taken afterwards.
    public mutating func relinquishAll() -> [Action] {
        stopping = true
        var actions: [Action] = []
        for id in held.keys.sorted() { actions += beginRelease(id) }
        taking = [:]
        return actions
    }

    // MARK: - Helpers

    func deadline(_ lease: Lease) -> Double { lease.renewedAt + options.writeWindow }

    mutating func enforceDeadline(_ id: String, now: Double) -> [Action] {
        guard var lease = held[id], lease.reading, now >= deadline(lease) else { return [] }
        // What was not written is forgotten: the next reader (this worker
        // after a renewal, or another) starts from the row's checkpoint.
        lease.reading = false
        lease.applied = lease.written
        lease.finishing = false
        held[id] = lease
        return [.stopReading(shard: id)]
    }

    mutating func startIfDue(_ id: String, now: Double) -> [Action] {
        guard var lease = held[id], !lease.reading, !lease.releasing, now >= lease.readFrom, now < deadline(lease) else {
            return []
        }
        lease.reading = true
        lease.applied = lease.written
        held[id] = lease
        return [.startReading(shard: id, from: lease.written)]
    }

    mutating func lose(_ id: String) -> [Action] {
        guard let lease = held.removeValue(forKey: id) else { return [] }
        return lease.reading ? [.stopReading(shard: id)] : []
    }

    /// Stops the shard now and gives its lease up, with what was applied.
    mutating func beginRelease(_ id: String) -> [Action] {
        guard var lease = held[id], !lease.releasing else { return [] }
        let stop: [Action] = lease.reading ? [.stopReading(shard: id)] : []
        lease.releasing = true
        lease.reading = false
        held[id] = lease
        return stop + releaseIfIdle(id)
    }

    /// The release waits for answers in flight: a renewal landing after it
    /// would fail its counter condition and leave the lease to expire.
    mutating func releaseIfIdle(_ id: String) -> [Action] {
        guard let lease = held[id], lease.releasing, lease.renewSentAt == nil, lease.checkpointSent == nil else { return [] }
        held[id] = nil
        return [.release(shard: id, expectedCounter: lease.counter, checkpoint: lease.applied)]
    }

    /// Leases this worker keeps (not being given up).
    var keeping: Int { held.values.filter { !$0.releasing }.count }
}
