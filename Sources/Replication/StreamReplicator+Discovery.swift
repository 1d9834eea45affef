import AWSClient
import Dispatch
import Foundation
import Logging

extension StreamReplicator {
    /// A checkpoint older than the stream's retention, or one naming shards
    /// the stream no longer has, means records were trimmed unread.
    func checkRetention() {
        let checkpoint = state.withLock { $0.checkpoint }
        guard let updated = checkpoint.updatedAt else { return }
        let age = Date().timeIntervalSince(updated)
        let unfinished = checkpoint.shards.filter { !$0.value.finished }
        guard age > options.retention, !unfinished.isEmpty else { return }
        for (shard, progress) in unfinished.sorted(by: { $0.key < $1.key }) {
            reportGap(shard: shard, after: progress.sequence,
                      detail: "the checkpoint is \(Int(age / 3600)) hours old, older than the stream's "
                        + "\(Int(options.retention / 3600))-hour retention: records after it may be gone")
        }
    }

    /// Lists the stream's shards and starts readers for those whose parents
    /// allow it.
    func discover() {
        let description: StreamDescription
        do {
            description = try streams.describeStreamFully(arn: options.streamArn)
        } catch {
            noteError("DescribeStream failed: \(error)")
            if error.retryClass == .terminal { finish(.failed("cannot describe stream \(options.streamArn): \(error)")) }
            return
        }
        let shards = description.shards.map { shard in
            ShardDescriptor(id: shard.shardId, parentId: shard.parentShardId,
                            endingSequence: shard.endingSequenceNumber.flatMap { SequenceNumber($0) })
        }
        let listed = Set(shards.map(\.id))
        let (startable, missing) = state.withLock { s -> ([String], [(String, SequenceNumber?)]) in
            // Unfinished shards of the checkpoint that the stream no longer
            // lists have aged out with records Ferry never applied.
            var missing: [(String, SequenceNumber?)] = []
            if s.firstDiscovery == false, s.started.isEmpty {
                for (id, progress) in s.checkpoint.shards where !progress.finished && !listed.contains(id) {
                    missing.append((id, progress.sequence))
                }
            }
            if s.checkpoint.shards.isEmpty && s.firstDiscovery && options.startPosition == .latest {
                // Starting at LATEST: closed shards hold only history.
                for shard in shards where shard.endingSequence != nil { s.lineage.finished(shard.id) }
            }
            let ready = s.lineage.discovered(shards).filter { !s.started.contains($0) }
            for id in ready {
                s.started.insert(id)
                s.lineage.started(id)
                if s.watermarks[id] == nil { s.watermarks[id] = Watermark() }
                s.stats[id, default: ShardStats()] = s.stats[id] ?? ShardStats()
            }
            return (ready, missing)
        }
        for (id, seq) in missing {
            reportGap(shard: id, after: seq, detail: "shard \(id) is no longer in the stream but the checkpoint has not finished it: "
                + "its remaining records were trimmed")
        }
        let first = state.withLock { s -> Bool in
            defer { s.firstDiscovery = false }
            return s.firstDiscovery
        }
        for id in startable {
            let position = startPosition(for: id, firstRun: first)
            startReader(shard: id, position: position)
        }
    }

    private func startPosition(for shard: String, firstRun: Bool) -> ShardIteratorPosition {
        let saved = state.withLock { $0.checkpoint.shards[shard]?.sequence }
        if let saved { return .afterSequenceNumber(saved.digits) }
        // Only the shards open when Ferry first starts follow the configured
        // position; any shard found later holds changes made since, from its start.
        if firstRun && options.startPosition == .latest { return .latest }
        return .trimHorizon
    }

    private func startReader(shard: String, position: ShardIteratorPosition) {
        let reader = ShardReader(shard: shard, start: position, replicator: self)
        readers.enter()
        DispatchQueue(label: "ferry.shard.\(shard)").async { [readers] in
            reader.run()
            readers.leave()
        }
        logger.debug("shard reader started", metadata: ["shard": "\(shard)", "position": "\(position)"])
    }

    // MARK: - Events from readers

    func issue(shard: String, sequence: SequenceNumber, createdAt: Double?) -> Bool {
        state.withLock { $0.watermarks[shard, default: Watermark()].issue(sequence, createdAt: createdAt) }
    }

    func noteRead(shard: String, createdAt: Double?) {
        guard let createdAt else { return }
        state.withLock { $0.stats[shard, default: ShardStats()].lastReadCreatedAt = createdAt }
    }

    func setCaughtUp(shard: String, _ caughtUp: Bool) {
        state.withLock { $0.stats[shard, default: ShardStats()].caughtUp = caughtUp }
    }

    /// The reader read a closed shard to its end and queued every record.
    func drained(shard: String) {
        state.withLock { s in
            s.stats[shard, default: ShardStats()].drained = true
            _ = s.lineage.drained(shard)
            Self.finishIfDone(shard, &s)
        }
        logger.info("shard read to its end", metadata: ["shard": "\(shard)"])
        requestDiscovery()
    }

    func reportGap(shard: String, after: SequenceNumber?, detail: String) {
        let skipping = options.skipTrimmedGaps
        state.withLock {
            $0.gaps.append(StatusReport.Gap(shard: shard, afterSequence: after?.digits, detectedAt: Date(),
                                            detail: detail, skipped: skipping))
        }
        logger.error("changes lost: records were trimmed from the stream before Ferry read them",
                     metadata: ["shard": "\(shard)", "after": "\(after?.digits ?? "start")", "detail": "\(detail)",
                                "action": "\(skipping ? "skipping ahead (skip_trimmed_gaps)" : "stopping")"])
        if !skipping {
            finish(.gap("shard \(shard): \(detail). The target is missing changes: backfill again, or start with "
                + "stream.skip_trimmed_gaps=true to go on knowingly"))
        }
    }

    func noteError(_ text: String) {
        state.withLock { $0.lastError = String(text.prefix(300)) }
        logger.warning("\(text)")
    }

    var isStopping: Bool { stopping.load(ordering: .relaxed) }
}
