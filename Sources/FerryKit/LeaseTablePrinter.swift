import Replication

/// `ferry status` in lease mode: the whole lease table, for a person.
public enum LeaseTablePrinter {
    /// Workers and how many shards each holds, then the shards no one
    /// holds: those a worker may take (every parent finished) and those
    /// waiting for a parent, and the finished ones.
    public static func render(_ rows: [LeaseRow], table: String) -> String {
        let finished = Set(rows.filter(\.finished).map(\.shardId))
        let open = rows.filter { !$0.finished }
        var perWorker: [String: [String]] = [:]
        for row in open { if let owner = row.owner { perWorker[owner, default: []].append(row.shardId) } }
        let unowned = open.filter { $0.owner == nil }
        let known = Set(rows.map(\.shardId))
        let takeable = unowned.filter { row in row.parents.allSatisfy { finished.contains($0) || !known.contains($0) } }
        var lines = ["lease table \(table): \(rows.count) shards, \(open.count) open, \(finished.count) finished"]
        for (worker, shards) in perWorker.sorted(by: { $0.key < $1.key }) {
            let counters = open.filter { $0.owner == worker }.map(\.counter)
            lines.append("  \(worker)".padding(toLength: 32, withPad: " ", startingAt: 0)
                + " holds \(shards.count)" + (counters.isEmpty ? "" : ", counters \(counters.min()!)-\(counters.max()!)"))
        }
        if perWorker.isEmpty { lines.append("  no worker holds a shard") }
        if !unowned.isEmpty {
            lines.append("  unowned: \(unowned.count) (\(takeable.count) takeable now, \(unowned.count - takeable.count) waiting for a parent)")
        }
        return lines.joined(separator: "\n")
    }
}
