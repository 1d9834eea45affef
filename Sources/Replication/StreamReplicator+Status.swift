import Foundation
import Logging

extension StreamReplicator {
    /// Writes the checkpoint when it changed (or when forced at shutdown).
    func saveCheckpoint(force: Bool) {
        let (checkpoint, changed) = state.withLock { s -> (Checkpoint, Bool) in
            var next = s.checkpoint
            for (id, wm) in s.watermarks {
                let finished = s.lineage.phases[id] == .finished
                next.shards[id] = Checkpoint.ShardProgress(sequence: wm.checkpoint ?? next.shards[id]?.sequence,
                                                           finished: finished)
            }
            for (id, phase) in s.lineage.phases where phase == .finished && next.shards[id] == nil {
                next.shards[id] = Checkpoint.ShardProgress(sequence: nil, finished: true)
            }
            let changed = next.shards != s.checkpoint.shards
            s.checkpoint = next
            return (next, changed)
        }
        guard changed || force else { return }
        do {
            try store.save(checkpoint)
            state.withLock { $0.lastCheckpointWrite = Date() }
        } catch {
            noteError("checkpoint not written: \(error)")
        }
    }

    /// The status report as of now.
    public func statusReport() -> StatusReport {
        let now = Date()
        let totals = counters.snapshot
        return state.withLock { s in
            var report = StatusReport(version: options.version, pid: ProcessInfo.processInfo.processIdentifier,
                                      writtenAt: now, phase: s.phase)
            report.streamArn = options.streamArn
            report.sourceTable = options.sourceTable
            report.targetTable = options.mapping.targetTable
            report.totals = totals
            report.gaps = s.gaps
            report.lastError = s.lastError
            report.checkpointAgeSeconds = s.lastCheckpointWrite.map { now.timeIntervalSince($0) }
            var maxLag = 0.0
            for (id, phase) in s.lineage.phases.sorted(by: { $0.key < $1.key }) {
                let stats = s.stats[id] ?? ShardStats()
                let wm = s.watermarks[id]
                var lag = 0.0
                if let oldest = wm?.oldestInFlightCreatedAt {
                    lag = max(0, now.timeIntervalSince1970 - oldest)
                } else if phase == .reading && !stats.caughtUp, let lastRead = stats.lastReadCreatedAt {
                    // Between pages of a backlog nothing is in flight, yet
                    // the shard is behind by at least its last record's age.
                    lag = max(0, now.timeIntervalSince1970 - lastRead)
                }
                maxLag = max(maxLag, lag)
                report.shards.append(StatusReport.Shard(
                    id: id, parent: s.lineage.descriptors[id]?.parentId, state: phase,
                    lastSequenceApplied: (wm?.checkpoint ?? s.checkpoint.shards[id]?.sequence)?.digits,
                    recordsApplied: stats.recordsApplied, lagSeconds: lag,
                    caughtUp: phase == .reading ? stats.caughtUp : nil))
            }
            report.lagSeconds = maxLag
            return report
        }
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
