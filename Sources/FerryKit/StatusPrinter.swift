import Foundation
import Replication

/// Reads state files for the `status` and `health` commands.
public enum AtomicFileReader {
    public static func read(_ path: String) throws -> [UInt8]? { try AtomicFile.read(path) }
}

/// `ferry status` for a person.
public enum StatusPrinter {
    public static func render(_ r: StatusReport, now: Date) -> String {
        var lines: [String] = []
        let age = now.timeIntervalSince(r.writtenAt)
        lines.append("phase: \(r.phase.rawValue)   lag: \(format(r.lagSeconds)) s   written \(format(age)) s ago by pid \(r.pid) (ferry \(r.version))")
        if let arn = r.streamArn { lines.append("stream: \(arn)") }
        lines.append("tables: \(r.sourceTable ?? "?") -> \(r.targetTable ?? "?")")
        let t = r.totals
        lines.append("events: inserted \(t.inserted), modified \(t.modified), removed \(t.removed)"
            + (t.outOfOrder > 0 ? ", out of order \(t.outOfOrder)" : ""))
        lines.append("records: read \(t.read), put \(t.put), deleted \(t.deleted), updated \(t.updated), "
            + "TTL skipped \(t.skippedTTL), dead-lettered \(t.deadLettered), retries \(t.retries), throttles \(t.throttles)")
        if t.beforeCutover > 0 || t.pairedRemoves > 0 {
            lines.append("way back: \(t.beforeCutover) records from before the cut-over skipped, "
                + "\(t.pairedRemoves) REMOVEs folded into the put that followed")
        }
        if t.writeRateLimit > 0 {
            lines.append("write rate: at most \(t.writeRateLimit) WCU/s, \(t.writeUnits) WCU written")
        }
        if let backfill = r.backfill, !backfill.isEmpty {
            lines.append("backfill: " + backfill.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        }
        if let c = r.checkpointAgeSeconds { lines.append("checkpoint written \(format(c)) s ago") }
        if let threads = r.threads {
            lines.append("threads: \(threads)" + (r.threadBound.map { " (bound \($0))" } ?? ""))
        }
        if let stalled = r.stalled { lines.append("STALLED: \(stalled)") }
        if let l = r.leases {
            lines.append("leases: worker \(l.worker) holds \(l.held) (fair share \(l.shareLow)-\(l.shareHigh) over \(l.workers) workers), "
                + "taken \(l.taken), lost \(l.lost)" + (l.unhealthy.map { "; UNHEALTHY: \($0)" } ?? ""))
        }
        if !r.shards.isEmpty {
            // Totals and the shards furthest behind: readable at 5,000 shards.
            var perState: [ShardPhase: Int] = [:]
            for s in r.shards { perState[s.state, default: 0] += 1 }
            let states: [ShardPhase] = [.waiting, .reading, .drained, .finished]
            lines.append("shards: \(r.shards.count) (" + states.compactMap { state in
                perState[state].map { "\(state.rawValue) \($0)" } }.joined(separator: ", ") + ")"
                + ", caught up \(r.shards.filter { $0.caughtUp == true }.count)")
            let shown = r.shards.sorted { ($0.lagSeconds, $1.id) > ($1.lagSeconds, $0.id) }.prefix(shardsShown)
            lines.append("")
            lines.append((r.shards.count > shardsShown ? "the \(shardsShown) shards with the most lag" : "shard")
                .padding(toLength: 44, withPad: " ", startingAt: 0) + " state     applied      lag s  last sequence")
            for s in shown {
                lines.append(s.id.padding(toLength: 44, withPad: " ", startingAt: 0) + " "
                    + s.state.rawValue.padding(toLength: 9, withPad: " ", startingAt: 0)
                    + String(format: " %8d %10.1f  ", s.recordsApplied, s.lagSeconds) + (s.lastSequenceApplied ?? "-"))
            }
        }
        if let nodes = r.nodes, !nodes.isEmpty {
            lines.append("")
            lines.append("target node".padding(toLength: 40, withPad: " ", startingAt: 0) + " state      since                 failures")
            for n in nodes {
                lines.append(n.url.padding(toLength: 40, withPad: " ", startingAt: 0) + " "
                    + (n.up ? "up" : "set aside").padding(toLength: 10, withPad: " ", startingAt: 0) + " "
                    + timestamp(n.since) + String(format: " %9d", n.failures)
                    + (n.up ? "" : n.lastError.map { "  \($0)" } ?? ""))
            }
        }
        for gap in r.gaps {
            lines.append("GAP in shard \(gap.shard) after \(gap.afterSequence ?? "its start")\(gap.skipped ? " (skipped)" : ""): \(gap.detail)")
        }
        if let e = r.lastError { lines.append("last error: \(e)") }
        return lines.joined(separator: "\n")
    }

    static func format(_ x: Double) -> String { String(format: "%.1f", x) }

    /// Shards listed one per line; the status file keeps them all.
    static let shardsShown = 20
    /// UTC, to the second: `2026-01-02T03:04:05Z`.
    static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: date)
    }
}

/// `ferry health`: healthy while the status file is fresh and the phase is
/// not failed.
public enum HealthCheck {
    public struct Verdict: Sendable {
        public var healthy: Bool
        public var message: String
    }

    public static func judge(path: String, now: Date, maxAge: Double) -> Verdict {
        let bytes: [UInt8]
        do {
            guard let read = try AtomicFile.read(path) else {
                return Verdict(healthy: false, message: "unhealthy: no status file at \(path)")
            }
            bytes = read
        } catch {
            return Verdict(healthy: false, message: "unhealthy: \(error)")
        }
        guard let report = try? StatusReport.decode(bytes) else {
            return Verdict(healthy: false, message: "unhealthy: \(path) is not a Ferry status file")
        }
        let age = now.timeIntervalSince(report.writtenAt)
        if report.phase == .failed {
            return Verdict(healthy: false, message: "unhealthy: phase failed: \(report.lastError ?? "see the log")")
        }
        if !report.gaps.filter({ !$0.skipped }).isEmpty {
            return Verdict(healthy: false, message: "unhealthy: a gap in the stream (changes lost); see `ferry status`")
        }
        if let stalled = report.stalled {
            return Verdict(healthy: false, message: "unhealthy: stalled: \(stalled)")
        }
        if let why = report.leases?.unhealthy {
            return Verdict(healthy: false, message: "unhealthy: leases: \(why)")
        }
        if age > maxAge && report.phase != .stopped {
            return Verdict(healthy: false, message: String(format: "unhealthy: status file is %.0f s old (limit %.0f s)", age, maxAge))
        }
        return Verdict(healthy: true, message: String(format: "healthy: phase %@, lag %.1f s", report.phase.rawValue, report.lagSeconds))
    }
}
