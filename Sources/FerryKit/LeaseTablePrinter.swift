import Replication

/// `ferry status` in lease mode: the whole lease table, for a person.
public enum LeaseTablePrinter {
    /// Workers and how many shards each holds, then the shards no one
    /// holds: those a worker may take (every parent finished) and those
    /// waiting for a parent, and the finished ones. Heartbeat rows are not
    /// shards: each worker's line shows its heartbeat counter, and workers
    /// with a heartbeat row but no shard are named on a line of their own.
    public static func render(_ rows: [LeaseRow], heartbeats: [LeaseHeartbeat] = [], table: String) -> String {
        let finished = Set(rows.filter(\.finished).map(\.shardId))
        let open = rows.filter { !$0.finished }
        var perWorker: [String: [String]] = [:]
        for row in open { if let owner = row.owner { perWorker[owner, default: []].append(row.shardId) } }
        let beats = Dictionary(heartbeats.map { ($0.worker, $0.counter) }, uniquingKeysWith: { a, _ in a })
        let lags = Dictionary(heartbeats.compactMap { b in b.lagSeconds.map { (b.worker, $0) } }, uniquingKeysWith: { a, _ in a })
        let unowned = open.filter { $0.owner == nil }
        let known = Set(rows.map(\.shardId))
        let takeable = unowned.filter { row in row.parents.allSatisfy { finished.contains($0) || !known.contains($0) } }
        var lines = ["lease table \(table): \(rows.count) shards, \(open.count) open, \(finished.count) finished"]
        for (worker, shards) in perWorker.sorted(by: { $0.key < $1.key }) {
            let counters = open.filter { $0.owner == worker }.map(\.counter)
            lines.append("  \(worker)".padding(toLength: 32, withPad: " ", startingAt: 0)
                + " holds \(shards.count)" + (counters.isEmpty ? "" : ", counters \(counters.min()!)-\(counters.max()!)")
                + (beats[worker].map { ", heartbeat \($0)" } ?? (heartbeats.isEmpty ? "" : ", no heartbeat row"))
                + (lags[worker].map { ", lag \(Int($0.rounded(.up))) s" } ?? ""))
        }
        let idle = beats.keys.filter { perWorker[$0] == nil }.sorted()
        if !idle.isEmpty {
            lines.append("  heartbeat rows of workers holding nothing: " + idle.map { "\($0) (\(beats[$0]!))" }.joined(separator: ", "))
        }
        if perWorker.isEmpty { lines.append("  no worker holds a shard") }
        if !unowned.isEmpty {
            lines.append("  unowned: \(unowned.count) (\(takeable.count) takeable now, \(unowned.count - takeable.count) waiting for a parent)")
        }
        return lines.joined(separator: "\n")
    }
}
