/// The decisions of shard leases, with no I/O and no clock of its own:
/// which shards this worker takes, steals and gives up, when its heartbeat
/// goes out, when it must stop writing a shard, when checkpoints go into
/// the rows and which rows are deleted. Several Ferry hosts split one
/// stream this way.
///
/// **Liveness is per worker, not per shard.** Each worker keeps one
/// heartbeat row (``LeaseHeartbeat``) and writes a new counter into it
/// every third of a lease. A shard row names its owner; its lease is alive
/// while the owner's heartbeat counter keeps changing. Shard rows change
/// only on take, steal, release and checkpoint, so the lease table sees
/// O(workers) writes per lease plus checkpoints, whatever the shard count.
///
/// Safety rests on three rules, comparing only durations on one host's
/// clock, never clocks of different hosts:
///
/// 1. Every change to a shard row is a conditional write (take, steal and
///    release on owner and counter; checkpoints on owner), so the table
///    never names two owners.
/// 2. **Expiry.** A worker takes a shard of another owner without asking
///    only once that owner's heartbeat counter (and the shard row) stood
///    still for `leaseSeconds` on the taker's clock since it first saw the
///    value. The holder's admission (below) ends at most `writeWindow`
///    after its last successful heartbeat was *sent*; that heartbeat landed
///    no earlier, and the taker saw its value no earlier than it landed,
///    so the holder stops `leaseSeconds - writeWindow = lease/3 + request
///    timeout` before the taker starts: a third of a lease for clocks that
///    run at different rates, and a request timeout for a write sent just
///    before the end.
/// 3. **Steals.** Balancing takes a shard from a *live* owner, whose
///    heartbeat keeps moving, so the owner must learn it lost the shard.
///    It does from its periodic table read (every `scanInterval`, at most
///    a third of a lease): a read *sent* at t that shows the row under this
///    worker at the lease's counter confirms the shard at t. A write is
///    admitted only while `now < min(last heartbeat sent, last
///    confirmation sent) + writeWindow`. Say the steal lands at L. Any read
///    that still showed the victim's counter was served before L, and was
///    sent no later than it was served, so the victim's last confirmation
///    is before L and it sends its last write before L + writeWindow (its
///    clock), which lands before L + writeWindow + request timeout =
///    L + lease - lease/3. The stealer starts reading a full lease after
///    its take was answered (after L), so a third of a lease is left for
///    clock rates. A victim whose reads fail is never confirmed again and
///    stops at the same bound; one whose heartbeats fail stops at its
///    heartbeat's bound.
///
/// A stopped shard is read again only after a fresh heartbeat and a fresh
/// confirmation, from the row's checkpoint. A worker whose table reads
/// fail for a write window stops its heartbeat as well: it could not
/// confirm its shards anyway, and this way they expire for the others
/// instead of staying held and unread.
///
/// **Start-up.** A worker writes its heartbeat first and takes nothing
/// until a table read sent `startupWait` (a scan interval) after that
/// heartbeat: by then it sees the heartbeats of the workers that started
/// with it, so its first fair share is right and it takes at most that
/// many. Among free shards it prefers those that rendezvous hashing over
/// the live workers gives to it, so workers starting together mostly take
/// different shards. A shard with no row yet is taken by creating its row
/// already owned (a conditional put on the row not existing).
///
/// Events in (``tableRead(_:heartbeats:listed:now:)``, ``taken(_:now:)``,
/// ``heartbeatWritten(now:)``, ``checkpointMoved(_:to:)``,
/// ``tick(now:)``…), ``Action``s out, to be carried out in order. Times are
/// seconds on this host's monotonic clock, passed in. Not thread-safe: the
/// shell keeps it under one lock.
public struct LeaseCore: Sendable {
    public struct Options: Sendable {
        public var workerId: String
        /// How long a lease lasts without a heartbeat, measured by a would-be
        /// taker on its own clock from when it saw the counter change.
        public var leaseSeconds = 30.0
        /// The longest a request (to the target or to the lease table) may
        /// take before the shell aborts it.
        public var requestTimeout = 5.0
        /// How often the lease table is read (and the stream listed). At
        /// most a third of a lease: a read confirms the shards this worker
        /// holds, and a confirmation lasts `writeWindow`.
        public var scanInterval = 10.0
        /// The shortest pause between two checkpoint writes of one shard.
        public var checkpointInterval = 5.0
        /// Checkpoint writes a worker spreads its shards' writes to, per
        /// second: each shard writes at most every
        /// `max(checkpointInterval, held / checkpointsPerSecond)` seconds
        /// (500 shards at 5 a second: every 100 s). A finished shard is
        /// written at once.
        public var checkpointsPerSecond = 5.0
        /// The pause before a failed heartbeat or checkpoint write is retried.
        public var retryInterval = 1.0
        /// After its first heartbeat, how long a worker waits before taking
        /// shards, so that it sees the workers that started with it.
        public var startupWait: Double? = nil
        /// Heartbeat counters start here: a restarted process under the same
        /// name never writes a value an observer saw before.
        public var heartbeatBase = Int.random(in: 0..<(1 << 48))

        public init(workerId: String) { self.workerId = workerId }

        /// Heartbeats go out every third of a lease, so two can fail before
        /// the leases are at risk.
        public var renewInterval: Double { leaseSeconds / 3 }
        /// How long after its last confirmation (heartbeat sent, or table
        /// read sent) the holder may still send writes: the lease less a
        /// third (slack for clocks running at different rates) less one
        /// request timeout (a write sent just before the end may land that
        /// much later). 30 s leases and 5 s requests: 15 s.
        public var writeWindow: Double { leaseSeconds - (leaseSeconds / 3 + requestTimeout) }
        /// Heartbeat rows whose counter stood still this long are deleted
        /// by whoever sees them.
        public var staleHeartbeat: Double { 10 * leaseSeconds }

        /// nil when the options work; otherwise what to change.
        public func validate() -> String? {
            guard !workerId.isEmpty else { return "lease worker id is empty: set a name unique to this host" }
            guard !workerId.contains("#") else { return "lease worker id \(workerId) contains #: choose a name without it" }
            guard writeWindow > renewInterval else {
                return "lease_seconds (\(leaseSeconds)) must be more than three times the request timeout "
                    + "(\(requestTimeout)): otherwise writes stop before each heartbeat can return"
            }
            guard scanInterval <= renewInterval, writeWindow > scanInterval else {
                return "the lease table is read every \(scanInterval) s: at most a third of lease_seconds (\(leaseSeconds))"
            }
            return nil
        }
    }

    /// What the shell carries out. Writes to the lease table are
    /// conditional; the shell answers each with the matching event.
    public enum Action: Sendable, Equatable {
        /// Read every row of the stream's lease table, heartbeats included
        /// (and list the stream), then call ``tableRead(_:heartbeats:listed:now:)``
        /// with the time the read was sent.
        case readTable
        /// Write `counter` into this worker's heartbeat row (if the row is
        /// this worker's or missing). Answer ``heartbeatWritten(now:)`` or
        /// ``heartbeatFailed(now:)``.
        case heartbeat(counter: Int)
        /// Put the row of a shard that has none yet, owned by this worker at
        /// counter 1, if there still is none. Answer ``taken(_:now:)`` (the
        /// row as written) or ``takeFailed(_:)``.
        case createOwned(LeaseRow)
        /// If owner and counter are as expected: owner = this worker,
        /// counter + 1. Answer with ``taken(_:now:)`` (the row as written)
        /// or ``takeFailed(_:)``.
        case take(shard: String, expectedOwner: String?, expectedCounter: Int)
        /// If owner is this worker and counter as expected: owner = nil,
        /// counter + 1, checkpoint = `checkpoint`. Sent only after the
        /// shard's ``stopReading(shard:)`` is carried out.
        case release(shard: String, expectedCounter: Int, checkpoint: SequenceNumber?)
        /// If owner is this worker: checkpoint (and finished) as given.
        case writeCheckpoint(shard: String, sequence: SequenceNumber?, finished: Bool)
        /// If the row is finished: delete it.
        case deleteRow(shard: String)
        /// Delete a worker's heartbeat row: a stale one if its counter is
        /// still `expectedCounter`, this worker's own (nil) at a clean stop.
        case deleteHeartbeat(worker: String, expectedCounter: Int?)
        /// This worker now reads the shard, after `from` (nil: from its start).
        case startReading(shard: String, from: SequenceNumber?)
        /// Stop the shard now: drop its queued changes and abort its
        /// requests in flight before carrying out the next action.
        case stopReading(shard: String)
    }

    struct Lease: Sendable {
        var counter: Int
        /// When the latest take or table read that showed this worker as
        /// the owner at `counter` was sent (it was served no earlier).
        var confirmedAt: Double
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
        /// When the last checkpoint write was sent (a finished flag that
        /// failed is retried a retry interval after it).
        var checkpointSentAt = -Double.infinity
        /// The earliest time for the next write of a moved checkpoint.
        var nextCheckpointAt = -Double.infinity
    }

    /// This worker's heartbeat.
    struct Beat: Sendable {
        var count = 0
        var sentAt: Double?
        /// When the last successful heartbeat was sent.
        var renewedAt = -Double.infinity
        var nextAt = -Double.infinity
        /// When the first successful heartbeat was sent.
        var firstAt: Double?
        /// The value the row holds, when known.
        var written: Int?
    }

    /// A row as last read, with when its owner or counter last changed on
    /// this worker's clock (first sight counts as a change). `virtual`: no
    /// row yet, only a listed shard.
    struct Seen: Sendable {
        var row: LeaseRow
        var changedAt: Double
        var unownedSince: Double?
        var virtual = false
    }

    /// Another worker's heartbeat as last read.
    struct SeenBeat: Sendable {
        var counter: Int
        var changedAt: Double
    }

    public let options: Options
    var held: [String: Lease] = [:]
    var seen: [String: Seen] = [:]
    var beats: [String: SeenBeat] = [:]
    var beat = Beat()
    /// Takes sent and not answered: when, and whether from a live holder.
    var taking: [String: (sentAt: Double, stolen: Bool)] = [:]
    /// The shards of the latest complete listing of the stream.
    var listed: [String: ShardDescriptor]?
    var nextScanAt = -Double.infinity
    /// When the latest table read that was answered was sent.
    var lastReadAt = -Double.infinity
    var lastStealAt = -Double.infinity
    var lastReleaseAt = -Double.infinity
    var stopping = false
    /// Leases taken away by another worker (or gone) while held.
    public private(set) var leasesLost = 0

    public init(options: Options) { self.options = options }

    /// The shards this worker holds a lease on (reading or not).
    public var ownedShards: [String] { held.keys.sorted() }

    /// Whether changes of `shard` may still be sent to the target now:
    /// false before ``Action/startReading(shard:from:)`` and from the
    /// moment the write window of the last heartbeat or the last
    /// confirmation of the shard has passed.
    public func mayWrite(_ shard: String, now: Double) -> Bool {
        guard let lease = held[shard], lease.reading else { return false }
        return now < deadline(lease)
    }

    /// The end of the write window of every shard being read: writes of
    /// `shard` may be sent while `now < admissionDeadlines()[shard]`, as
    /// ``mayWrite(_:now:)`` says, until the core's next decision.
    public func admissionDeadlines() -> [String: Double] {
        var deadlines: [String: Double] = [:]
        deadlines.reserveCapacity(held.count)
        for (id, lease) in held where lease.reading { deadlines[id] = deadline(lease) }
        return deadlines
    }

    // MARK: - Time

    /// Due work: the heartbeat, the table read, the end of write windows,
    /// stolen shards whose wait is over, and checkpoint writes.
    public mutating func tick(now: Double) -> [Action] {
        var actions: [Action] = []
        // A worker that cannot read the table cannot learn of steals: its
        // shards stop when their confirmations run out, and its heartbeat
        // stops too, so that the others may take them after a lease.
        let reading = beat.firstAt == nil || now - lastReadAt < options.writeWindow
        if !stopping && beat.sentAt == nil && now >= beat.nextAt && reading {
            beat.sentAt = now
            beat.count += 1
            actions.append(.heartbeat(counter: options.heartbeatBase + beat.count))
        }
        if now >= nextScanAt && !stopping {
            nextScanAt = now + options.scanInterval
            actions.append(.readTable)
        }
        let every = checkpointEvery
        for id in held.keys.sorted() {
            if held[id]?.releasing == true {
                actions += releaseIfIdle(id)
                continue
            }
            actions += enforceDeadline(id, now: now)
            guard var lease = held[id] else { continue }
            if lease.reading, lease.checkpointSent == nil,
               lease.finishing ? now - lease.checkpointSentAt >= options.retryInterval
                               : checkpointAhead(lease) && now >= lease.nextCheckpointAt {
                lease.checkpointSent = (lease.applied, lease.finishing)
                lease.checkpointSentAt = now
                lease.nextCheckpointAt = now + every
                actions.append(.writeCheckpoint(shard: id, sequence: lease.applied, finished: lease.finishing))
            }
            held[id] = lease
            actions += startIfDue(id, now: now)
        }
        return actions
    }

    // MARK: - Answers

    /// The heartbeat went through: every held shard's window extends from
    /// when it was sent (shards stopped for a missed window start again
    /// once a table read confirms them too).
    public mutating func heartbeatWritten(now: Double) -> [Action] {
        guard let sent = beat.sentAt else { return [] }
        beat.sentAt = nil
        beat.renewedAt = sent
        beat.nextAt = sent + options.renewInterval
        beat.written = options.heartbeatBase + beat.count
        if beat.firstAt == nil { beat.firstAt = sent }
        return held.keys.sorted().flatMap { startIfDue($0, now: now) }
    }

    /// The heartbeat failed: retried; every shard stops when its window ends.
    public mutating func heartbeatFailed(now: Double) -> [Action] {
        guard beat.sentAt != nil else { return [] }
        beat.sentAt = nil
        beat.written = nil
        beat.nextAt = now + options.retryInterval
        return held.keys.sorted().flatMap { enforceDeadline($0, now: now) }
    }

    /// A take (or an owned create) succeeded; `row` is the row as written,
    /// so reading starts from its checkpoint as it stands after the take.
    public mutating func taken(_ row: LeaseRow, now: Double) -> [Action] {
        guard let take = taking.removeValue(forKey: row.shardId), row.owner == options.workerId else { return [] }
        var lease = Lease(counter: row.counter, confirmedAt: take.sentAt,
                          // A live holder may send writes for up to two
                          // thirds of a lease after its last confirmation,
                          // which came before this take landed: a full
                          // lease from now leaves a third of slack.
                          readFrom: take.stolen ? now + options.leaseSeconds : now,
                          written: row.checkpoint, applied: row.checkpoint)
        // The row holds the checkpoint reading starts from: nothing to
        // write for an interval. Shards taken together spread their first
        // writes over the interval after that.
        lease.nextCheckpointAt = now + checkpointEvery * (1 + Self.phase(row.shardId))
        held[row.shardId] = lease
        seen[row.shardId] = Seen(row: row, changedAt: now)
        return startIfDue(row.shardId, now: now)
    }

    /// The take's condition failed (someone was faster) or the store failed.
    /// The table is read again a retry interval after the last read rather
    /// than a whole scan interval: a shard left over from a lost race would
    /// otherwise wait that long for anyone to read it (at start-up, 10 s of
    /// idle polls on every other shard).
    public mutating func takeFailed(_ shard: String) {
        guard taking.removeValue(forKey: shard) != nil, !stopping else { return }
        nextScanAt = min(nextScanAt, lastReadAt + options.retryInterval)
    }

    /// Shutdown: every shard stops, then its lease is released with its
    /// applied checkpoint, so other workers take it at once instead of
    /// waiting for it to expire. Leases with a checkpoint write in flight
    /// are released at the tick after its answer: keep ticking until
    /// ``ownedShards`` is empty (or a lease has passed), then carry out
    /// ``retireHeartbeat()``. Nothing is taken afterwards.
    public mutating func relinquishAll() -> [Action] {
        stopping = true
        var actions: [Action] = []
        for id in held.keys.sorted() { actions += beginRelease(id) }
        taking = [:]
        return actions
    }

    /// The last action of a clean stop: this worker's heartbeat row goes.
    public mutating func retireHeartbeat() -> [Action] {
        guard stopping, beat.firstAt != nil else { return [] }
        beat.firstAt = nil
        return [.deleteHeartbeat(worker: options.workerId, expectedCounter: nil)]
    }

    // MARK: - Helpers

    /// The end of a lease's write window: its last confirmation and the
    /// last heartbeat must both be recent.
    func deadline(_ lease: Lease) -> Double { min(beat.renewedAt, lease.confirmedAt) + options.writeWindow }

    /// Seconds between two checkpoint writes of one shard, for the number
    /// of shards held now.
    var checkpointEvery: Double {
        // Takes in flight count: the shards of one read are answered one by
        // one, and the first ones answered must not get a short interval.
        max(options.checkpointInterval, Double(held.count + taking.count) / options.checkpointsPerSecond)
    }

    mutating func enforceDeadline(_ id: String, now: Double) -> [Action] {
        guard var lease = held[id], lease.reading, now >= deadline(lease) else { return [] }
        // What was not written is forgotten: the next reader (this worker
        // after a fresh confirmation, or another) starts from the row's
        // checkpoint.
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
        leasesLost += 1
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

    /// The release waits for a checkpoint write in flight, so the row gets
    /// the later of the two.
    mutating func releaseIfIdle(_ id: String) -> [Action] {
        guard let lease = held[id], lease.releasing, lease.checkpointSent == nil else { return [] }
        held[id] = nil
        return [.release(shard: id, expectedCounter: lease.counter, checkpoint: lease.applied)]
    }

    /// Leases this worker keeps (not being given up).
    var keeping: Int { held.values.filter { !$0.releasing }.count }

    /// FNV-1a and a finalizer: a hash that is the same in every process (Swift's Hasher is
    /// seeded per process), for rendezvous hashing and spreading.
    static func stableHash(_ text: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            h ^= UInt64(byte)
            h = h &* 0x100_0000_01b3
        }
        // FNV alone mixes the high bits poorly for strings that differ in
        // one early byte ("w1/…", "w2/…"): finish with murmur3's fmix64.
        h ^= h >> 33
        h = h &* 0xff51_afd7_ed55_8ccd
        h ^= h >> 33
        h = h &* 0xc4ce_b9fe_1a85_ec53
        h ^= h >> 33
        return h
    }

    /// A fraction in [0, 1) fixed per shard.
    static func phase(_ shard: String) -> Double { Double(stableHash(shard) >> 11) / Double(1 << 53) }
}
