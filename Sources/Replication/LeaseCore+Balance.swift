/// Reading the lease table: which workers are alive, which leases this
/// worker lost or still holds, which rows can go, and how it moves toward
/// an even split.
extension LeaseCore {
    /// The fair share of one worker: `low` = floor, `high` = ceil of the
    /// shards in play (owned, or takeable) over the live workers (those
    /// whose heartbeat moved within a lease on this clock, owners of live
    /// leases, and this worker).
    public struct Share: Sendable, Equatable {
        public var low: Int
        public var high: Int
        public var workers: Int
    }

    /// The rows as just read (strongly consistent), with the heartbeat rows,
    /// and the stream's shards if this read came with a complete listing
    /// (nil: none this time; the previous one stands). `now` is when the
    /// read was sent: it confirms the leases it shows this worker holding.
    public mutating func tableRead(_ rows: [LeaseRow], heartbeats: [LeaseHeartbeat] = [], listed shards: [ShardDescriptor]?,
                                   now: Double) -> [Action] {
        if let shards { listed = Dictionary(shards.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a }) }
        lastReadAt = max(lastReadAt, now)
        observe(rows, now: now)
        observe(heartbeats, now: now)
        var actions: [Action] = []
        for id in held.keys.sorted() {
            if hasLost(id) {
                actions += lose(id)
            } else if var lease = held[id], !lease.releasing {
                lease.confirmedAt = max(lease.confirmedAt, now)
                held[id] = lease
                actions += startIfDue(id, now: now)
            }
        }
        actions += deletions()
        actions += staleHeartbeats(now: now)
        if !stopping { actions += balance(now: now) }
        return actions
    }

    /// Unhealthy when a takeable shard has had no live owner for more than
    /// two leases while this worker holds less than its fair share: takes
    /// are failing. Children waiting for a parent, and more workers than
    /// shards, are healthy.
    public func health(now: Double) -> LeaseHealth {
        let share = share(now: now)
        guard keeping < share.high else { return LeaseHealth(healthy: true) }
        for id in seen.keys.sorted() {
            guard let s = seen[id], held[id] == nil, !s.row.finished, parentsDone(s.row) else { continue }
            let freeSince = s.row.owner == nil ? s.unownedSince : quietSince(s) + options.leaseSeconds
            guard let freeSince, now - freeSince > 2 * options.leaseSeconds else { continue }
            return LeaseHealth(healthy: false, reason: "shard \(id) has had no live owner for \(Int(now - freeSince)) s "
                + "while this worker holds \(keeping) of its fair share of \(share.high): its takes are failing")
        }
        return LeaseHealth(healthy: true)
    }

    /// This worker's fair share as the table was last read.
    public func share(now: Double) -> Share {
        let workers = liveWorkers(now: now)
        var pool = 0
        for s in seen.values where !s.row.finished && (s.row.owner != nil || parentsDone(s.row)) { pool += 1 }
        let n = workers.count
        return Share(low: pool / n, high: (pool + n - 1) / n, workers: n)
    }

    /// This worker, every worker whose heartbeat moved within a lease, and
    /// every owner of a lease that has not expired (a worker without a
    /// heartbeat row, seen by its rows alone).
    func liveWorkers(now: Double) -> Set<String> {
        var workers: Set<String> = [options.workerId]
        for (worker, b) in beats where now - b.changedAt < options.leaseSeconds { workers.insert(worker) }
        for s in seen.values where !s.row.finished {
            if let owner = s.row.owner, !isExpired(s, now: now) { workers.insert(owner) }
        }
        return workers
    }

    // MARK: - Observing

    /// A counter or owner that differs from the last read, or a row seen for
    /// the first time, restarts that row's lease on this clock. A listed
    /// shard without a row is kept as a virtual unowned row.
    mutating func observe(_ rows: [LeaseRow], now: Double) {
        var next: [String: Seen] = [:]
        next.reserveCapacity(max(rows.count, listed?.count ?? 0))
        for row in rows {
            let old = seen[row.shardId]
            let same = old.map { !$0.virtual && $0.row.owner == row.owner && $0.row.counter == row.counter } ?? false
            var s = Seen(row: row, changedAt: same ? old!.changedAt : now)
            if row.owner == nil { s.unownedSince = (old?.row.owner == nil ? old?.unownedSince : nil) ?? now }
            next[row.shardId] = s
        }
        for (id, shard) in listed ?? [:] where next[id] == nil {
            let old = seen[id]
            next[id] = Seen(row: LeaseRow(shardId: id, parents: shard.parentId.map { [$0] } ?? []), changedAt: now,
                            unownedSince: (old?.virtual == true ? old?.unownedSince : nil) ?? now, virtual: true)
        }
        seen = next
    }

    /// Other workers' heartbeats: a counter that differs from the last read
    /// (or a first sight) restarts their leases on this clock.
    mutating func observe(_ heartbeats: [LeaseHeartbeat], now: Double) {
        var next: [String: SeenBeat] = [:]
        for b in heartbeats where b.worker != options.workerId {
            let old = beats[b.worker]
            next[b.worker] = SeenBeat(counter: b.counter, changedAt: old?.counter == b.counter ? old!.changedAt : now)
        }
        beats = next
    }

    /// The row is gone, has another owner, or another counter: a take,
    /// steal or release of ours is answered before the next read, so any
    /// other counter is someone else's doing.
    func hasLost(_ id: String) -> Bool {
        guard let lease = held[id], let s = seen[id], !s.virtual else { return true }
        return s.row.owner != options.workerId || s.row.counter != lease.counter
    }

    /// Every parent's row is finished, or the parent aged out of the stream
    /// (no row, and the latest listing does not name it).
    func parentsDone(_ row: LeaseRow) -> Bool {
        row.parents.allSatisfy { parent in
            if let p = seen[parent] { return p.row.finished }  // a virtual row is not finished
            return listed.map { $0[parent] == nil } ?? false
        }
    }

    /// Since when the lease of a row has shown no sign of life on this
    /// clock: the later of the row's last change and its owner's last
    /// heartbeat change. A row under this worker's name that it does not
    /// hold belongs to an earlier process of the same name: only the row
    /// counts (that process's heartbeat is this one's).
    func quietSince(_ s: Seen) -> Double {
        guard let owner = s.row.owner, owner != options.workerId, let b = beats[owner] else { return s.changedAt }
        return max(s.changedAt, b.changedAt)
    }

    func isExpired(_ s: Seen, now: Double) -> Bool {
        s.row.owner != nil && now - quietSince(s) >= options.leaseSeconds
    }

    /// Older generations first (their records are nearer the end of the
    /// stream's retention); then the shards rendezvous hashing over
    /// `workers` gives to this worker, so that workers starting together
    /// take different shards; then in an order of this worker's own.
    func takingOrder(_ ids: [String], workers: Set<String> = []) -> [String] {
        var memo: [String: Int] = [:]
        func depth(_ id: String, _ hops: Int) -> Int {
            if let d = memo[id] { return d }
            guard hops < 64, let row = seen[id]?.row else { return 0 }
            let d = row.parents.map { depth($0, hops + 1) + 1 }.max() ?? 0
            memo[id] = d
            return d
        }
        let others = workers.subtracting([options.workerId]).sorted()
        let me = options.workerId
        func rank(_ id: String) -> (Int, UInt64) {
            let mine = Self.stableHash(me + "/" + id)
            let wins = others.allSatisfy { Self.stableHash($0 + "/" + id) < mine }
            return (wins ? 0 : 1, mine)
        }
        return ids.map { id -> (String, Int, (Int, UInt64)) in (id, depth(id, 0), workers.isEmpty ? (0, 0) : rank(id)) }
            .sorted { a, b in
                if a.1 != b.1 { return a.1 < b.1 }
                if a.2.0 != b.2.0 { return a.2.0 < b.2.0 }
                if a.2.1 != b.2.1 { return a.2.1 > b.2.1 }
                return a.0 < b.0
            }.map(\.0)
    }

    // MARK: - Deciding

    /// Finished rows that the stream no longer lists and whose children are
    /// all finished: nothing can be read of them again.
    func deletions() -> [Action] {
        guard let listed else { return [] }
        var children: [String: [String]] = [:]
        for s in seen.values { for parent in s.row.parents { children[parent, default: []].append(s.row.shardId) } }
        return seen.keys.sorted().filter { id in
            guard let s = seen[id], !s.virtual, s.row.finished, listed[id] == nil else { return false }
            return (children[id] ?? []).allSatisfy { seen[$0]?.row.finished == true }
        }.map { .deleteRow(shard: $0) }
    }

    /// Heartbeat rows that stood still for ten leases: their workers are
    /// long gone. The delete is conditional on the counter as seen, so a
    /// worker that wakes and beats again keeps its row (or writes it anew).
    func staleHeartbeats(now: Double) -> [Action] {
        beats.keys.sorted().compactMap { worker in
            guard let b = beats[worker], now - b.changedAt >= options.staleHeartbeat else { return nil }
            return .deleteHeartbeat(worker: worker, expectedCounter: b.counter)
        }
    }

    /// Takes free shards up to the fair share; short of it with nothing
    /// free, steals one shard from the busiest worker; above it, gives one
    /// up. Hysteresis: a steal needs the victim to hold two more than this
    /// worker (so the victim never wants it back), at most one per lease;
    /// a release happens only above the ceiling, at most one per read.
    /// Nothing is taken before a read sent `startupWait` after this
    /// worker's first heartbeat, which shows the workers that started with
    /// it (and lets them see this one).
    mutating func balance(now: Double) -> [Action] {
        guard let first = beat.firstAt, now >= first + (options.startupWait ?? options.scanInterval) else { return [] }
        let share = share(now: now)
        var mine = keeping + taking.count
        var actions: [Action] = []
        let free = seen.values.filter {
            !$0.row.finished && held[$0.row.shardId] == nil && taking[$0.row.shardId] == nil && parentsDone($0.row)
                && ($0.row.owner == nil || isExpired($0, now: now))
        }.map(\.row.shardId)
        if mine < share.high {
            for id in takingOrder(free, workers: liveWorkers(now: now)) where mine < share.high {
                guard let s = seen[id] else { continue }
                taking[id] = (now, false)
                mine += 1
                if s.virtual {
                    actions.append(.createOwned(LeaseRow(shardId: id, owner: options.workerId, counter: 1, parents: s.row.parents)))
                } else {
                    actions.append(.take(shard: id, expectedOwner: s.row.owner, expectedCounter: s.row.counter))
                }
            }
        }
        if mine < share.high && now - lastStealAt >= options.leaseSeconds, let steal = stealCandidate(mine: mine, now: now) {
            taking[steal.shardId] = (now, true)
            lastStealAt = now
            actions.append(.take(shard: steal.shardId, expectedOwner: steal.owner, expectedCounter: steal.counter))
        }
        if mine > share.high && now - lastReleaseAt >= options.scanInterval,
           let id = takingOrder(held.filter { !$0.value.releasing }.map(\.key)).last {
            lastReleaseAt = now
            actions += beginRelease(id)
        }
        return actions
    }

    /// The newest shard of the live worker holding the most, if it holds
    /// at least two more than `mine`.
    func stealCandidate(mine: Int, now: Double) -> LeaseRow? {
        var byOwner: [String: [String]] = [:]
        for s in seen.values where !s.row.finished && !isExpired(s, now: now) && taking[s.row.shardId] == nil {
            guard let owner = s.row.owner, owner != options.workerId else { continue }
            byOwner[owner, default: []].append(s.row.shardId)
        }
        guard let victim = byOwner.max(by: { $0.value.count != $1.value.count ? $0.value.count < $1.value.count : $0.key > $1.key }),
              victim.value.count >= mine + 2, let id = takingOrder(victim.value).last else { return nil }
        return seen[id]?.row
    }
}
