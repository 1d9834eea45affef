/// Reading the lease table: which shards need a row, which rows can go,
/// which leases this worker lost, and how it moves toward an even split.
extension LeaseCore {
    /// The fair share of one worker: `low` = floor, `high` = ceil of the
    /// shards in play (owned, or takeable) over the live workers (owners
    /// whose counters moved within a lease on this clock, and this worker).
    public struct Share: Sendable, Equatable {
        public var low: Int
        public var high: Int
        public var workers: Int
    }

    /// The rows as just read (strongly consistent), and the stream's shards
    /// if this read came with a complete listing (nil: none this time; the
    /// previous one stands).
    public mutating func tableRead(_ rows: [LeaseRow], listed shards: [ShardDescriptor]?, now: Double) -> [Action] {
        if let shards { listed = Set(shards.map(\.id)) }
        observe(rows, now: now)
        var actions: [Action] = []
        for id in held.keys.sorted() where hasLost(id) { actions += lose(id) }
        for shard in shards ?? [] where seen[shard.id] == nil {
            actions.append(.createRow(LeaseRow(shardId: shard.id, parents: shard.parentId.map { [$0] } ?? [])))
        }
        actions += deletions()
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
            let freeSince = s.row.owner == nil ? s.unownedSince : s.changedAt + options.leaseSeconds
            guard let freeSince, now - freeSince > 2 * options.leaseSeconds else { continue }
            return LeaseHealth(healthy: false, reason: "shard \(id) has had no live owner for \(Int(now - freeSince)) s "
                + "while this worker holds \(keeping) of its fair share of \(share.high): its takes are failing")
        }
        return LeaseHealth(healthy: true)
    }

    /// This worker's fair share as the table was last read.
    public func share(now: Double) -> Share {
        var workers: Set<String> = [options.workerId]
        var pool = 0
        for s in seen.values where !s.row.finished {
            if let owner = s.row.owner, now - s.changedAt < options.leaseSeconds { workers.insert(owner) }
            if s.row.owner != nil || parentsDone(s.row) { pool += 1 }
        }
        let n = workers.count
        return Share(low: pool / n, high: (pool + n - 1) / n, workers: n)
    }

    // MARK: - Observing

    /// A counter or owner that differs from the last read, or a row seen for
    /// the first time, restarts that row's lease on this clock.
    mutating func observe(_ rows: [LeaseRow], now: Double) {
        var next: [String: Seen] = [:]
        next.reserveCapacity(rows.count)
        for row in rows {
            let old = seen[row.shardId]
            let same = old.map { $0.row.owner == row.owner && $0.row.counter == row.counter } ?? false
            var s = Seen(row: row, changedAt: same ? old!.changedAt : now)
            if row.owner == nil { s.unownedSince = (same ? old?.unownedSince : nil) ?? now }
            next[row.shardId] = s
        }
        seen = next
    }

    /// The row has another owner at or past our counter, or is gone. A
    /// higher counter under our own name is our renewal, answered later.
    func hasLost(_ id: String) -> Bool {
        guard let lease = held[id], let row = seen[id]?.row else { return true }
        return row.owner != options.workerId && row.counter >= lease.counter
    }

    /// Every parent's row is finished, or the parent aged out of the stream
    /// (no row, and the latest listing does not name it).
    func parentsDone(_ row: LeaseRow) -> Bool {
        row.parents.allSatisfy { parent in
            if let p = seen[parent] { return p.row.finished }
            return listed.map { !$0.contains(parent) } ?? false
        }
    }

    func isExpired(_ s: Seen, now: Double) -> Bool {
        s.row.owner != nil && now - s.changedAt >= options.leaseSeconds
    }

    /// Older generations first (their records are nearer the end of the
    /// stream's retention), then by shard id.
    func takingOrder(_ ids: [String]) -> [String] {
        var memo: [String: Int] = [:]
        func depth(_ id: String, _ hops: Int) -> Int {
            if let d = memo[id] { return d }
            guard hops < 64, let row = seen[id]?.row else { return 0 }
            let d = row.parents.map { depth($0, hops + 1) + 1 }.max() ?? 0
            memo[id] = d
            return d
        }
        return ids.map { ($0, depth($0, 0)) }.sorted { $0.1 != $1.1 ? $0.1 < $1.1 : $0.0 < $1.0 }.map(\.0)
    }

    // MARK: - Deciding

    /// Finished rows that the stream no longer lists and whose children are
    /// all finished: nothing can be read of them again.
    func deletions() -> [Action] {
        guard let listed else { return [] }
        var children: [String: [String]] = [:]
        for s in seen.values { for parent in s.row.parents { children[parent, default: []].append(s.row.shardId) } }
        return seen.keys.sorted().filter { id in
            guard let row = seen[id]?.row, row.finished, !listed.contains(id) else { return false }
            return (children[id] ?? []).allSatisfy { seen[$0]?.row.finished == true }
        }.map { .deleteRow(shard: $0) }
    }

    /// Takes free shards up to the fair share; short of it with nothing
    /// free, steals one shard from the busiest worker; above it, gives one
    /// up. Hysteresis: a steal needs the victim to hold two more than this
    /// worker (so the victim never wants it back), at most one per lease;
    /// a release happens only above the ceiling, at most one per read.
    mutating func balance(now: Double) -> [Action] {
        let share = share(now: now)
        var mine = keeping + taking.count
        var actions: [Action] = []
        let free = seen.values.filter {
            !$0.row.finished && held[$0.row.shardId] == nil && taking[$0.row.shardId] == nil && parentsDone($0.row)
                && ($0.row.owner == nil || isExpired($0, now: now))
        }.map(\.row.shardId)
        for id in takingOrder(free) where mine < share.high {
            guard let row = seen[id]?.row else { continue }
            taking[id] = (now, false)
            mine += 1
            actions.append(.take(shard: id, expectedOwner: row.owner, expectedCounter: row.counter))
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
