import AWSClient

/// The decisions of stream replication, with no I/O and no clock of its
/// own: which shards to read and from where (lineage, parent before child,
/// start positions), which records are new (replays, out-of-order numbers),
/// the per-shard watermarks and the checkpoint built from them, gaps and
/// retention, when a shard is finished and which children start, when to
/// list the stream again, and when nothing has moved for too long.
///
/// It takes events (``discovered(_:complete:now:)``, ``pageRead(shard:records:ended:now:)``,
/// ``applied(_:now:)``, ``drained(_:now:)``, ``trimmed(shard:after:operation:now:)``,
/// ``tick(now:queued:requestsCompleted:)``) and returns ``Action``s for the
/// shell (``StreamReplicator``) to carry out. Times are seconds since 1970,
/// passed in. Not thread-safe: the shell keeps it under one lock.
public struct ReplicationCore: Sendable {
    public struct Options: Sendable {
        public var streamArn: String
        public var startPosition = StreamReplicatorOptions.StartPosition.trimHorizon
        public var skipTrimmedGaps = false
        /// How long the stream keeps records.
        public var retention: Double = 24 * 3600
        /// The shortest pause between two full listings of the stream.
        public var discoveryInterval = 5.0
        /// DescribeStream calls per second that full listings may average.
        /// DynamoDB allows 10 per second per account and region; 2 leaves
        /// room for targeted look-ups, restarts and other tools.
        public var describeCallsPerSecond = 2.0
        /// Shards per DescribeStream page (DynamoDB's maximum).
        public var shardsPerDescribePage = 100
        /// The shortest pause between two targeted look-ups of children.
        public var targetedDiscoveryInterval = 1.0
        public var checkpointInterval = 1.0
        /// Seconds without progress, while records wait, before a stall.
        public var stallSeconds = 120.0
        /// Several workers share the stream: a shard is read only once this
        /// worker holds its lease (``own(_:from:now:)``), never just because
        /// its parent drained here; the lease core decides who reads what.
        public var leased = false
        /// Reverse replication after a cut-over: records created before
        /// this time (ApproximateCreationDateTime, epoch seconds) are the
        /// forward daemon's own writes and are never applied. Set, it
        /// holds for every shard, however the shard is started or its
        /// iterator renewed; a record without a creation time stops the run.
        public var notBefore: Double?

        public init(streamArn: String) { self.streamArn = streamArn }
    }

    public enum Action: Sendable, Equatable {
        /// Start reading a shard (get an iterator at this position).
        case poll(shard: String, from: ShardIteratorPosition)
        /// List the stream: all of it (`after` nil), or only the shards
        /// listed after `after` (the newest), to find a drained parent's children.
        case discover(after: String?)
        case saveCheckpoint(CheckpointDelta)
        case reportGap(StatusReport.Gap)
        /// A new record whose sequence number does not rise: applied, and
        /// worth a (rate-limited) warning.
        case outOfOrder(shard: String, previous: SequenceNumber, sequence: SequenceNumber)
        case stalled(String)
        case resumed
        case finish(ReplicationOutcome)
    }

    /// What a read page comes to: the records to hand to the lanes (by
    /// index in the page, with the origin their acknowledgement names),
    /// and actions (children to start, warnings).
    public struct PageResult: Sendable {
        public var accepted: [(index: Int, origin: Change.Origin)] = []
        /// New records from before ``Options/notBefore``: acknowledged, not applied.
        public var beforeCutover: [Change.Origin] = []
        public var replays = 0
        public var outOfOrder = 0
        public var actions: [Action] = []
    }

    /// What the core needs of one record.
    public struct RecordRef: Sendable {
        public var sequence: SequenceNumber
        public var eventID: String?
        public var createdAt: Double?
        public init(sequence: SequenceNumber, eventID: String? = nil, createdAt: Double? = nil) {
            self.sequence = sequence
            self.eventID = eventID
            self.createdAt = createdAt
        }
    }

    struct ShardState: Sendable {
        var watermark: Watermark
        /// The position the current iterator chain was asked for.
        var floor: SequenceNumber?
        var applied = 0
        var caughtUp = false
        var readOnce = false
        var lastReadCreatedAt: Double?
        /// The checkpoint moved, or the shard finished, since the last save.
        var dirty = false
    }

    public let options: Options
    public private(set) var lineage: ShardLineage
    var shards: [String: ShardState] = [:]
    /// The checkpoint as last saved (or loaded), shard by shard.
    public private(set) var saved: [String: Checkpoint.ShardProgress]
    private var savedAt: Double?
    private let loadedUpdatedAt: Double?
    public private(set) var gaps: [StatusReport.Gap] = []
    public private(set) var outcome: ReplicationOutcome?
    private var firstDiscovery: Bool
    private var anyStarted = false
    private var lastFullDiscovery = -Double.infinity
    private var lastTargetedDiscovery = -Double.infinity
    /// Drained parents none of whose children are known yet.
    private var awaitingChildren = Set<String>()
    /// The last shard id of the latest full listing (listings are in
    /// creation order, so new shards come after it).
    private var lastListedId: String?
    /// The shards of the latest full listing (nil before the first).
    public private(set) var lastListing: [ShardDescriptor]?
    private var lastMove: Double
    private var lastRequestsCompleted = 0
    public private(set) var stalled = false
    /// Records acknowledged over all shards since the start.
    public private(set) var appliedTotal = 0

    public init(options: Options, checkpoint: Checkpoint?, now: Double) {
        self.options = options
        let loaded = checkpoint?.shards ?? [:]
        saved = loaded
        loadedUpdatedAt = checkpoint?.updatedAt?.timeIntervalSince1970
        firstDiscovery = checkpoint == nil
        lineage = ShardLineage(finished: loaded.filter { $0.value.finished }.map(\.key))
        for (id, progress) in loaded where !progress.finished {
            shards[id] = ShardState(watermark: Watermark(checkpoint: progress.sequence))
        }
        lastMove = now
    }

    // MARK: - Start

    /// The run begins: a checkpoint older than the stream's retention means
    /// records were trimmed unread. Then the first listing.
    public mutating func start(now: Double) -> [Action] {
        var actions: [Action] = []
        if let updated = loadedUpdatedAt, now - updated > options.retention {
            let age = now - updated
            for (shard, progress) in saved.filter({ !$0.value.finished }).sorted(by: { $0.key < $1.key }) {
                actions += gap(shard: shard, after: progress.sequence, now: now,
                               detail: "the checkpoint is \(Int(age / 3600)) hours old, older than the stream's "
                                + "\(Int(options.retention / 3600))-hour retention: records after it may be gone")
            }
        }
        if outcome == nil {
            lastFullDiscovery = now
            actions.append(.discover(after: nil))
        }
        return actions
    }

    // MARK: - Discovery

    /// Merges a listing. `complete`: the whole stream was listed (not only
    /// the newest shards), so a shard missing from it is gone.
    public mutating func discovered(_ listed: [ShardDescriptor], complete: Bool, now: Double) -> [Action] {
        var actions: [Action] = []
        if complete {
            lastListing = listed
            lastListedId = listed.last?.id ?? lastListedId
            let ids = Set(listed.map(\.id))
            // Unfinished shards of the checkpoint that the stream no longer
            // lists have aged out with records Ferry never applied.
            if !firstDiscovery && !anyStarted {
                for (id, progress) in saved.sorted(by: { $0.key < $1.key }) where !progress.finished && !ids.contains(id) {
                    actions += gap(shard: id, after: progress.sequence, now: now,
                                   detail: "shard \(id) is no longer in the stream but the checkpoint has not finished it: "
                                    + "its remaining records were trimmed")
                }
            }
            actions += pruneAgedOut(listed: ids)
        }
        if firstDiscovery && saved.isEmpty && options.startPosition == .latest {
            // Starting at LATEST: closed shards hold only history.
            for shard in listed where shard.endingSequence != nil { lineage.finished(shard.id) }
        }
        let startable = lineage.discovered(listed)
        for parent in awaitingChildren where listed.contains(where: { $0.parentId == parent }) {
            awaitingChildren.remove(parent)
        }
        actions += startShards(startable)
        firstDiscovery = false
        return actions
    }

    /// Finished shards that the stream no longer lists (aged out) and whose
    /// children are finished leave the checkpoint: nothing can be read of
    /// them again, and the checkpoint stays the size of the live stream.
    private mutating func pruneAgedOut(listed: Set<String>) -> [Action] {
        var removed: [String] = []
        for (id, phase) in lineage.phases where phase == .finished && !listed.contains(id) {
            let children = lineage.descriptors.values.filter { $0.parentId == id }
            guard children.allSatisfy({ lineage.phases[$0.id] == .finished }) else { continue }
            removed.append(id)
        }
        guard !removed.isEmpty else { return [] }
        for id in removed {
            lineage.forget(id)
            shards[id] = nil
            saved[id] = nil
        }
        return [.saveCheckpoint(CheckpointDelta(streamArn: options.streamArn, changed: [:], removed: removed.sorted()))]
    }

    private mutating func startShards(_ ids: [String]) -> [Action] {
        guard !options.leased else { return [] }
        var actions: [Action] = []
        for id in ids {
            lineage.started(id)
            anyStarted = true
            let savedSequence = saved[id]?.sequence
            if shards[id] == nil { shards[id] = ShardState(watermark: Watermark(checkpoint: savedSequence)) }
            let position: ShardIteratorPosition
            if let savedSequence {
                position = .afterSequenceNumber(savedSequence.digits)
            } else if firstDiscovery && options.startPosition == .latest {
                // Only the shards open when Ferry first starts follow the
                // configured position; a shard found later holds changes
                // made since, from its start.
                position = .latest
            } else {
                position = .trimHorizon
            }
            actions.append(.poll(shard: id, from: position))
        }
        return actions
    }

    // MARK: - Leases

    /// This worker now holds `shard`'s lease: read it from the lease's
    /// checkpoint (after it), or from the trim horizon when it has none.
    public mutating func own(_ shard: String, from checkpoint: SequenceNumber?, now: Double) -> [Action] {
        if lineage.phases[shard] == nil { _ = lineage.discovered([ShardDescriptor(id: shard)]) }
        saved[shard] = Checkpoint.ShardProgress(sequence: checkpoint, finished: false)
        shards[shard] = ShardState(watermark: Watermark(checkpoint: checkpoint))
        lineage.restart(shard)
        lineage.started(shard)
        anyStarted = true
        return [.poll(shard: shard, from: checkpoint.map { .afterSequenceNumber($0.digits) } ?? .trimHorizon)]
    }

    /// This worker gave `shard` up (its lease went elsewhere): its state
    /// goes, late acknowledgements are ignored, and it is not checkpointed
    /// here again. The shell stops polling it and drops its queued changes.
    public mutating func release(_ shard: String) {
        shards[shard] = nil
        saved[shard] = nil
        if lineage.phases[shard] != .finished { lineage.restart(shard) }
    }

    /// Shards this worker reads (for a lease core's bookkeeping).
    public var readingShards: [String] { shards.keys.filter { lineage.phases[$0] == .reading }.sorted() }

    /// The shell got a new iterator for `shard` at `position`: records at
    /// or below it (or, from the trim horizon, at or below the checkpoint
    /// as it stands now) that the chain delivers are replays.
    public mutating func iteratorOpened(shard: String, at position: ShardIteratorPosition) {
        guard var state = shards.removeValue(forKey: shard) else { return }
        switch position {
        case .afterSequenceNumber(let s):
            state.floor = SequenceNumber(s)
        case .atSequenceNumber, .trimHorizon, .latest:
            state.floor = state.watermark.checkpoint
        }
        shards[shard] = state
    }

    // MARK: - Reading

    /// One GetRecords page of `shard`. `ended`: the page had no next
    /// iterator, so the shard is read to its end.
    public mutating func pageRead(shard: String, records: [RecordRef], ended: Bool, now: Double) -> PageResult {
        var result = PageResult()
        // Taken out of the dictionary while it changes: a copy left inside
        // would make every append copy the watermark's arrays.
        guard var state = shards.removeValue(forKey: shard) else { return result }
        result.accepted.reserveCapacity(records.count)
        for (index, record) in records.enumerated() {
            if state.watermark.isReplay(record.sequence, eventID: record.eventID, floor: state.floor) {
                result.replays += 1
                continue
            }
            let previous = state.watermark.highestIssued
            let ticket = state.watermark.issue(record.sequence, eventID: record.eventID, createdAt: record.createdAt)
            if let previous, record.sequence <= previous {
                result.outOfOrder += 1
                result.actions.append(.outOfOrder(shard: shard, previous: previous, sequence: record.sequence))
            }
            let origin = Change.Origin(source: shard, sequence: record.sequence, ticket: ticket)
            if let notBefore = options.notBefore {
                guard let created = record.createdAt else {
                    shards[shard] = state
                    result.accepted = []
                    result.beforeCutover = []
                    result.actions = failed("shard \(shard): record \(record.sequence.digits) has no ApproximateCreationDateTime, "
                        + "so Ferry cannot tell whether it was written before the cut-over; nothing of this page was applied")
                    return result
                }
                if created < notBefore {
                    result.beforeCutover.append(origin)
                    continue
                }
            }
            result.accepted.append((index, origin))
        }
        state.caughtUp = records.isEmpty || ended
        state.readOnce = true
        if let created = records.last?.createdAt { state.lastReadCreatedAt = created }
        shards[shard] = state
        if !records.isEmpty { lastMove = now }
        if ended { result.actions += drained(shard, now: now) }
        return result
    }

    /// `shard` was read to its end (or is gone from the stream) and every
    /// record of it was handed to the lanes: its children may start, from
    /// the lineage already known; unknown children are looked for.
    public mutating func drained(_ shard: String, now: Double) -> [Action] {
        let startable = lineage.drained(shard)
        finishIfDone(shard)
        if !lineage.descriptors.values.contains(where: { $0.parentId == shard }) {
            awaitingChildren.insert(shard)
        }
        return startShards(startable) + dueTargetedDiscovery(now: now)
    }

    /// GetShardIterator or GetRecords answered TrimmedDataAccessException.
    public mutating func trimmed(shard: String, after: SequenceNumber?, operation: String, now: Double) -> [Action] {
        var actions = gap(shard: shard, after: after, now: now,
                          detail: "\(operation) answered TrimmedDataAccessException: records after this point are gone")
        if options.skipTrimmedGaps {
            actions.append(.poll(shard: shard, from: .trimHorizon))
        }
        return actions
    }

    /// Something the run cannot go on from.
    public mutating func failed(_ reason: String) -> [Action] {
        guard outcome == nil else { return [] }
        outcome = .failed(reason)
        return [.finish(.failed(reason))]
    }

    private mutating func gap(shard: String, after: SequenceNumber?, now: Double, detail: String) -> [Action] {
        let g = StatusReport.Gap(shard: shard, afterSequence: after?.digits, detectedAt: .init(timeIntervalSince1970: now),
                                 detail: detail, skipped: options.skipTrimmedGaps)
        gaps.append(g)
        var actions: [Action] = [.reportGap(g)]
        if !options.skipTrimmedGaps && outcome == nil {
            let why = "shard \(shard): \(detail). The target is missing changes: backfill again, or start with "
                + "stream.skip_trimmed_gaps=true to go on knowingly"
            outcome = .gap(why)
            actions.append(.finish(.gap(why)))
        }
        return actions
    }

    // MARK: - Acknowledgements

    /// The target applied (or dead-lettered) these changes.
    public mutating func applied(_ origins: [Change.Origin], now: Double) {
        guard !origins.isEmpty else { return }
        lastMove = now
        appliedTotal += origins.count
        var i = 0
        while i < origins.count {
            let source = origins[i].source
            // Taken out while it changes (a copy inside would be copied on write).
            guard var state = shards.removeValue(forKey: source) else { i += 1; continue }
            let before = state.watermark.checkpoint
            while i < origins.count, origins[i].source == source {
                state.watermark.acknowledge(ticket: origins[i].ticket)
                state.applied += 1
                i += 1
            }
            if state.watermark.checkpoint != before { state.dirty = true }
            shards[source] = state
            finishIfDone(source)
        }
    }

    /// A drained shard whose records are all applied is finished.
    private mutating func finishIfDone(_ shard: String) {
        guard lineage.phases[shard] == .drained, (shards[shard]?.watermark.inFlight ?? 0) == 0 else { return }
        lineage.finished(shard)
        shards[shard]?.dirty = true
    }

    // MARK: - Time

    /// Once a checkpoint interval or so: the checkpoint to save, listings
    /// due, stalls. `queued`: changes waiting in the lanes;
    /// `requestsCompleted`: a counter of successful requests that moved
    /// records (pages with records and acknowledgements count by themselves).
    public mutating func tick(now: Double, queued: Int, requestsCompleted: Int) -> [Action] {
        var actions: [Action] = []
        if savedAt.map({ now - $0 >= options.checkpointInterval }) ?? true, let delta = takeCheckpointDelta() {
            savedAt = now
            actions.append(.saveCheckpoint(delta))
        }
        if now - lastFullDiscovery >= fullDiscoveryInterval {
            lastFullDiscovery = now
            actions.append(.discover(after: nil))
        } else {
            actions += dueTargetedDiscovery(now: now)
        }
        if requestsCompleted != lastRequestsCompleted {
            lastRequestsCompleted = requestsCompleted
            lastMove = now
        }
        // Waiting: a shard's last page had records (more may follow), or
        // changes are queued or in flight.
        let waiting = queued > 0 || shards.values.contains { ($0.readOnce && !$0.caughtUp) || $0.watermark.inFlight > 0 }
        if stalled && (!waiting || now - lastMove < options.stallSeconds) {
            stalled = false
            actions.append(.resumed)
        } else if !stalled && waiting && now - lastMove >= options.stallSeconds {
            stalled = true
            actions.append(.stalled("nothing has moved for \(Int(now - lastMove)) s while changes wait: no shard made "
                + "progress and no request succeeded; check the target's and the stream's reachability and the log"))
        }
        return actions
    }

    /// A full listing costs one DescribeStream call per 100 shards; spread
    /// listings so they average `describeCallsPerSecond`: every 5 s up to
    /// 1,000 shards, every 50 s at 10,000.
    public var fullDiscoveryInterval: Double {
        let pages = Double(max(1, (lineage.descriptors.count + options.shardsPerDescribePage - 1) / options.shardsPerDescribePage))
        return max(options.discoveryInterval, pages / options.describeCallsPerSecond)
    }

    private mutating func dueTargetedDiscovery(now: Double) -> [Action] {
        guard !awaitingChildren.isEmpty, now - lastTargetedDiscovery >= options.targetedDiscoveryInterval else { return [] }
        lastTargetedDiscovery = now
        return [.discover(after: lastListedId)]
    }

    /// The shards whose progress changed since the last save, as saved from now on.
    public mutating func takeCheckpointDelta() -> CheckpointDelta? {
        var changed: [String: Checkpoint.ShardProgress] = [:]
        for (id, state) in shards where state.dirty {
            let progress = Checkpoint.ShardProgress(sequence: state.watermark.checkpoint ?? saved[id]?.sequence,
                                                    finished: lineage.phases[id] == .finished)
            shards[id]?.dirty = false
            if saved[id] != progress {
                changed[id] = progress
                saved[id] = progress
            }
        }
        return changed.isEmpty ? nil : CheckpointDelta(streamArn: options.streamArn, changed: changed, removed: [])
    }

    /// A save failed: its shards are written again with the next one.
    public mutating func saveFailed(_ delta: CheckpointDelta) {
        for id in delta.changed.keys {
            saved[id] = nil
            shards[id]?.dirty = true
        }
    }

    // MARK: - Status

    /// Per-shard status, for the status file, in no particular order (the
    /// caller sorts it outside the lock).
    public func shardStatus(now: Double) -> [StatusReport.Shard] {
        var out: [StatusReport.Shard] = []
        out.reserveCapacity(lineage.phases.count)
        for (id, phase) in lineage.phases {
            let state = shards[id]
            var lag = 0.0
            if let oldest = state?.watermark.oldestInFlightCreatedAt {
                lag = max(0, now - oldest)
            } else if phase == .reading, let state, !state.caughtUp, let lastRead = state.lastReadCreatedAt {
                // Between pages of a backlog nothing is in flight, yet the
                // shard is behind by at least its last record's age.
                lag = max(0, now - lastRead)
            }
            out.append(StatusReport.Shard(
                id: id, parent: lineage.descriptors[id]?.parentId, state: phase,
                lastSequenceApplied: (state?.watermark.checkpoint ?? saved[id]?.sequence)?.digits,
                recordsApplied: state?.applied ?? 0, lagSeconds: lag,
                caughtUp: phase == .reading ? state?.caughtUp ?? false : nil))
        }
        return out
    }
}

/// What changed in the checkpoint since the last save: per-shard progress
/// to write, and shards to forget. A file store merges it into its
/// document; a table store writes one row per shard.
public struct CheckpointDelta: Sendable, Equatable {
    public var streamArn: String
    public var changed: [String: Checkpoint.ShardProgress]
    public var removed: [String]

    public init(streamArn: String, changed: [String: Checkpoint.ShardProgress], removed: [String]) {
        self.streamArn = streamArn
        self.changed = changed
        self.removed = removed
    }
}
