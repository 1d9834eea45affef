import Foundation
import Replication

/// The status file's numbers in Prometheus text format, written atomically
/// to a `.prom` file for node_exporter's textfile collector.
public enum MetricsFile {
    public static func render(_ r: StatusReport) -> String {
        var out = ""
        func metric(_ name: String, _ help: String, _ type: String, _ samples: [(String, Double)]) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
            for (labels, value) in samples {
                out += labels.isEmpty ? "\(name) \(format(value))\n" : "\(name){\(labels)} \(format(value))\n"
            }
        }
        let t = r.totals
        let phases: [StatusReport.Phase] = [.starting, .creating, .backfilling, .streaming, .draining, .stopped, .failed]
        metric("ferry_phase", "1 for the phase Ferry is in.", "gauge",
               phases.map { ("phase=\"\($0.rawValue)\"", $0 == r.phase ? 1 : 0) })
        metric("ferry_records_read_total", "Stream records read.", "counter", [("", Double(t.read))])
        metric("ferry_stream_events_total", "New stream records read, by event.", "counter",
               [("event=\"insert\"", Double(t.inserted)), ("event=\"modify\"", Double(t.modified)),
                ("event=\"remove\"", Double(t.removed))])
        metric("ferry_records_out_of_order_total",
               "New records whose sequence number did not rise on their shard (applied, not dropped).", "counter",
               [("", Double(t.outOfOrder))])
        metric("ferry_records_applied_total", "Writes acknowledged by the target, by kind.", "counter",
               [("kind=\"put\"", Double(t.put)), ("kind=\"delete\"", Double(t.deleted)), ("kind=\"update\"", Double(t.updated))])
        metric("ferry_ttl_deletes_skipped_total", "TTL expirations skipped by policy.", "counter", [("", Double(t.skippedTTL))])
        metric("ferry_records_before_cutover_total",
               "Way back: records created before the cut-over, acknowledged and never applied.", "counter",
               [("", Double(t.beforeCutover))])
        metric("ferry_paired_removes_total",
               "REMOVEs not written because a put of the same key followed them (Alternator's two-event put).", "counter",
               [("", Double(t.pairedRemoves))])
        metric("ferry_dead_letters_total", "Changes the target refused for good (see the dead-letter file).", "counter",
               [("", Double(t.deadLettered))])
        metric("ferry_retries_total", "Retried target writes after errors.", "counter", [("", Double(t.retries))])
        metric("ferry_throttles_total", "Throttled or partly processed target writes.", "counter", [("", Double(t.throttles))])
        metric("ferry_write_units_total", "Write capacity units of the writes the target acknowledged.", "counter",
               [("", Double(t.writeUnits))])
        metric("ferry_write_rate_limit", "Write capacity units per second the writers may send now (0: no limit).", "gauge",
               [("", Double(t.writeRateLimit))])
        metric("ferry_lag_seconds", "Age of the oldest change not yet applied (largest over shards).", "gauge", [("", r.lagSeconds)])
        // Bounded cardinality whatever the shard count: a histogram of
        // per-shard lag and counts per state, never a series per shard.
        let bounds: [Double] = [1, 5, 15, 60, 300, 1800, 3600, 21600]
        out += "# HELP ferry_shard_lag_seconds Lag of each open shard, as a histogram over shards.\n"
        out += "# TYPE ferry_shard_lag_seconds histogram\n"
        for bound in bounds {
            out += "ferry_shard_lag_seconds_bucket{le=\"\(format(bound))\"} \(r.shards.filter { $0.lagSeconds <= bound }.count)\n"
        }
        out += "ferry_shard_lag_seconds_bucket{le=\"+Inf\"} \(r.shards.count)\n"
        out += "ferry_shard_lag_seconds_sum \(format(r.shards.reduce(0) { $0 + $1.lagSeconds }))\n"
        out += "ferry_shard_lag_seconds_count \(r.shards.count)\n"
        let states: [ShardPhase] = [.waiting, .reading, .drained, .finished]
        metric("ferry_shards", "Shards by state.", "gauge",
               states.map { state in ("state=\"\(state.rawValue)\"", Double(r.shards.filter { $0.state == state }.count)) })
        if let threads = r.threads {
            metric("ferry_threads", "Threads of the process.", "gauge", [("", Double(threads))])
        }
        if let bound = r.threadBound {
            metric("ferry_thread_bound", "The most threads the process should have, fixed at start.", "gauge", [("", Double(bound))])
        }
        if let l = r.leases {
            metric("ferry_leases_held", "Shard leases this worker holds.", "gauge", [("", Double(l.held))])
            metric("ferry_leases_taken_total", "Shard leases taken since start.", "counter", [("", Double(l.taken))])
            metric("ferry_leases_lost_total", "Shard leases lost to another worker since start.", "counter", [("", Double(l.lost))])
        }
        metric("ferry_stalled", "1 while changes wait and nothing has moved for stream.stall_seconds.", "gauge",
               [("", r.stalled == nil ? 0 : 1)])
        metric("ferry_gaps", "Gaps (trimmed records) found; not skipped ones stop Ferry.", "gauge", [("", Double(r.gaps.count))])
        if let backfill = r.backfill {
            metric("ferry_backfill_progress", "Backfill counters.", "gauge",
                   backfill.sorted { $0.key < $1.key }.map { ("counter=\"\(escape($0.key))\"", Double($0.value)) })
        }
        if let nodes = r.nodes {
            metric("ferry_target_node_up", "1 while a target node gets requests, 0 while it is set aside after a failure.", "gauge",
                   nodes.map { ("node=\"\(escape($0.url))\"", $0.up ? 1 : 0) })
            metric("ferry_target_node_failures_total", "Requests that failed on a target node (no answer, or 5xx).", "counter",
                   nodes.map { ("node=\"\(escape($0.url))\"", Double($0.failures)) })
            metric("ferry_target_node_since_timestamp_seconds", "When the target node last went up or was set aside.", "gauge",
                   nodes.map { ("node=\"\(escape($0.url))\"", $0.since.timeIntervalSince1970) })
        }
        metric("ferry_status_written_timestamp_seconds", "When this was written.", "gauge", [("", r.writtenAt.timeIntervalSince1970)])
        return out
    }

    public static func write(_ r: StatusReport, to path: String) throws {
        try AtomicFile.write(Array(render(r).utf8), to: path, mode: 0o644)
    }

    static func format(_ v: Double) -> String {
        v == v.rounded() && abs(v) < 1e15 ? String(Int64(v)) : String(v)
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
    }
}
