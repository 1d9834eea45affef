import Foundation
import Logging
import Synchronization

extension StreamReplicator {
    /// Writes the shards whose progress changed. `touch`: rewrite the file
    /// even when nothing changed (renews its age at shutdown).
    func saveCheckpoint(_ delta: CheckpointDelta?, touch: Bool) {
        guard delta != nil || touch else { return }
        do {
            try store.apply(delta ?? CheckpointDelta(streamArn: options.streamArn, changed: [:], removed: []))
            shell.withLock { $0.lastCheckpointWrite = Date() }
        } catch {
            if let delta { core.withLock { $0.saveFailed(delta) } }
            noteError("checkpoint not written: \(error)")
        }
    }

    /// The status report as of now.
    /// The largest lag over this process's shards, as the status file has it.
    public func largestLag() -> Double {
        let now = Date().timeIntervalSince1970
        return core.withLock { $0.shardStatus(now: now) }.reduce(0) { max($0, $1.lagSeconds) }
    }

    public func statusReport() -> StatusReport {
        let now = Date()
        let totals = counters.snapshot
        let s = shell.withLock { $0 }
        var report = StatusReport(version: options.version, pid: ProcessInfo.processInfo.processIdentifier,
                                  writtenAt: now, phase: s.phase)
        report.streamArn = options.streamArn
        report.sourceTable = options.sourceTable
        report.targetTable = options.mapping.targetTable
        report.totals = totals
        report.lastError = s.lastError
        report.stalled = s.stalled
        report.checkpointAgeSeconds = s.lastCheckpointWrite.map { now.timeIntervalSince($0) }
        report.threads = ProcessThreads.current()
        report.threadBound = s.threadBound
        core.withLock { c in
            report.gaps = c.gaps
            report.shards = c.shardStatus(now: now.timeIntervalSince1970)
        }
        report.shards.sort { $0.id.utf8.lexicographicallyPrecedes($1.id.utf8) }
        report.lagSeconds = report.shards.reduce(0) { max($0, $1.lagSeconds) }
        return report
    }

    func writeStatus() {
        guard let path = options.statusPath else { return }
        do {
            try statusReport().write(to: path)
        } catch {
            logger.warning("status file not written", metadata: ["path": "\(path)", "error": "\(error)"])
        }
    }
}

/// The process's thread count, from /proc (Linux); nil elsewhere.
public enum ProcessThreads {
    /// Runs `body` while a thread samples the count every 2 ms; returns
    /// the highest count seen (for tests and benchmarks).
    public static func peak(during body: () throws -> Void) rethrows -> Int {
        let peak = Atomic<Int>(current() ?? 0)
        let done = Atomic<Bool>(false)
        let sampler = Thread {
            while !done.load(ordering: .relaxed) {
                let now = current() ?? 0
                if now > peak.load(ordering: .relaxed) { peak.store(now, ordering: .relaxed) }
                usleep(2_000)
            }
        }
        sampler.start()
        defer { done.store(true, ordering: .relaxed) }
        try body()
        return peak.load(ordering: .relaxed)
    }

    public static func current() -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("Threads:") {
            return Int(line.dropFirst("Threads:".count).trimmingCharacters(in: .whitespaces))
        }
        return nil
    }
}
