/// Checkpoints in the lease rows: what the replication side applied goes
/// into the row of its shard, conditional on this worker still owning it,
/// and the finished flag at once. A worker spreads its shards' writes to
/// about `checkpointsPerSecond`: each shard at most every
/// `max(checkpointInterval, held / checkpointsPerSecond)` seconds (5 s up
/// to 100 shards, 25 s at 500, 100 s at 2,000). The cost of a longer
/// interval is replay, never loss: a new owner starts after the row's
/// checkpoint and applies again what was applied since (at least once).
extension LeaseCore {
    /// Every record of `shard` at or below `sequence` is applied.
    public mutating func checkpointMoved(_ shard: String, to sequence: SequenceNumber) {
        guard var lease = held[shard], lease.reading else { return }
        if lease.applied.map({ $0 < sequence }) ?? true { lease.applied = sequence }
        held[shard] = lease
    }

    /// Every record of `shard` is applied: the row is marked finished at the
    /// next tick, which lets other workers take its children.
    public mutating func shardFinished(_ shard: String) {
        guard held[shard]?.reading == true else { return }
        held[shard]?.finishing = true
    }

    /// The checkpoint write went through. Once the finished flag is in the
    /// row, the lease has nothing left to guard and is let go.
    public mutating func checkpointWritten(_ shard: String) {
        guard var lease = held[shard], let sent = lease.checkpointSent else { return }
        lease.checkpointSent = nil
        lease.written = sent.sequence
        seen[shard]?.row.checkpoint = sent.sequence
        if sent.finished {
            held[shard] = nil
            seen[shard]?.row.finished = true
        } else {
            held[shard] = lease
        }
    }

    /// A checkpoint write failed. `conditionFailed`: the row has another
    /// owner, so the shard stops at once; otherwise it is retried.
    public mutating func checkpointFailed(_ shard: String, conditionFailed: Bool) -> [Action] {
        if conditionFailed { return lose(shard) }
        held[shard]?.checkpointSent = nil
        return []
    }

    /// The replication side applied more than the row says.
    func checkpointAhead(_ lease: Lease) -> Bool {
        guard let applied = lease.applied else { return false }
        return lease.written.map { $0 < applied } ?? true
    }
}
