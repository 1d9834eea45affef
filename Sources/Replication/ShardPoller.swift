import AWSClient
import Dispatch
import DynamoModel
import Foundation
import Logging

/// Polls the shards the core started, with a fixed number of threads.
///
/// Each shard has a cursor (its iterator, where to renew it, its backoff)
/// and waits in a ``PollSchedule``. A reader thread takes the shard that is
/// due, makes one request for it (GetShardIterator or GetRecords), hands
/// the page to the core and the writer pool, and puts the shard back: at
/// once when the page had records, after a growing pause when it was empty
/// (within the idle-poll budget), after a longer one on errors. Nothing
/// sleeps per shard, and one request at most is in flight per shard.
final class ShardPoller: @unchecked Sendable {
    struct Cursor: Sendable {
        var position: ShardIteratorPosition
        var iterator: String?
        var idle = 0.0
        var failures = 0
        /// A REMOVE the last page ended with, waiting one poll for the put
        /// that may follow it (``RemovePairing``): read, unacknowledged, not
        /// queued. A cursor replaced or dropped (a lease lost, a shard
        /// started anew) drops it unacknowledged, to be read again from the
        /// checkpoint by whoever reads the shard next.
        var heldRemove: Change?
    }

    enum Next { case again, idle(Double), retry(Double), done }

    // Under `monitor`.
    private let monitor = Monitor()
    private let due: Monitor.Condition
    private var schedule: PollSchedule
    private var cursors: [String: Cursor] = [:]
    /// Shards started anew while a poll of them was under way: they go
    /// back in the schedule when that poll returns (one request at a time).
    private var pendingStart: [String: Cursor] = [:]
    /// Shards being polled right now (not in the schedule).
    private var polling = Set<String>()
    /// One reader waits with a timeout for the next due time; the others
    /// wait to be woken, so a due time wakes one thread, not all of them.
    private var timedWaiter = false
    private let threadsDone = DispatchGroup()
    private unowned let replicator: StreamReplicator

    init(threads: Int, pollsPerSecond: Double, replicator: StreamReplicator) {
        self.replicator = replicator
        schedule = PollSchedule(pollsPerSecond: pollsPerSecond, now: monotonicSeconds())
        due = monitor.makeCondition()
        for index in 0..<max(1, threads) {
            threadsDone.enter()
            DispatchQueue(label: "ferry.reader.\(index)").async { [self] in
                loop()
                threadsDone.leave()
            }
        }
    }

    /// Starts following `shard` from `position` (replacing any cursor it had).
    func start(shard: String, at position: ShardIteratorPosition) {
        monitor.withLock {
            if polling.contains(shard) {
                pendingStart[shard] = Cursor(position: position)
                return
            }
            if cursors[shard] != nil { schedule.remove(shard) }
            cursors[shard] = Cursor(position: position)
            schedule.add(shard, at: monotonicSeconds(), idle: false)
        }
        due.signal()
    }

    /// Stops following `shard` (its lease went to another worker): it leaves
    /// the schedule, and a poll of it under way is not followed by another.
    func stop(shard: String) {
        monitor.withLock {
            pendingStart[shard] = nil
            guard cursors.removeValue(forKey: shard) != nil else { return }
            schedule.remove(shard)
        }
    }

    /// Wakes every reader (to notice a stop).
    func wake() { monitor.withLock { due.broadcast() } }

    /// Waits for the readers to end (after a stop); false at the deadline.
    func join(deadline: DispatchTime) -> Bool {
        wake()
        return threadsDone.wait(timeout: deadline) == .success
    }

    private func loop() {
        monitor.lock()
        while !replicator.isStopping {
            let now = monotonicSeconds()
            switch schedule.next(now: now) {
            case .wait(let until):
                if timedWaiter {
                    monitor.wait(due)
                } else {
                    timedWaiter = true
                    monitor.wait(due, until: min(until, now + 0.5))
                    timedWaiter = false
                }
            case .poll(let shard):
                // Another shard may be due as well: pass the watch on.
                if schedule.hasDue(now: now) { due.signal() }
                guard var cursor = cursors[shard] else { continue }
                polling.insert(shard)
                monitor.unlock()
                let next = replicator.pollOnce(shard: shard, cursor: &cursor)
                monitor.lock()
                polling.remove(shard)
                let after = monotonicSeconds()
                // Started anew while it was polled: the new cursor wins.
                // Stopped: it is not polled again.
                if let fresh = pendingStart.removeValue(forKey: shard) {
                    cursors[shard] = fresh
                    schedule.add(shard, at: after, idle: false)
                    continue
                }
                guard cursors[shard] != nil else { continue }
                switch next {
                case .again: cursors[shard] = cursor; schedule.add(shard, at: after, idle: false)
                case .idle(let pause): cursors[shard] = cursor; schedule.add(shard, at: after + pause, idle: true)
                case .retry(let pause): cursors[shard] = cursor; schedule.add(shard, at: after + pause, idle: false)
                case .done: cursors[shard] = nil
                }
            }
        }
        monitor.unlock()
    }
}

extension StreamReplicator {
    /// One request for `shard`: renews the iterator when it has none, else
    /// reads a page and hands it on. Returns when to poll the shard again.
    func pollOnce(shard: String, cursor: inout ShardPoller.Cursor) -> ShardPoller.Next {
        if cursor.iterator == nil {
            do {
                cursor.iterator = try streams.getShardIterator(arn: options.streamArn, shardId: shard, position: cursor.position)
                core.withLock { $0.iteratorOpened(shard: shard, at: cursor.position) }
                // A LATEST iterator names no record. Renewing it at LATEST
                // before the first record is read would skip whatever was
                // written in between; renew from the trim horizon instead
                // (an ordered replay, as after a restart).
                if cursor.position == .latest { cursor.position = .trimHorizon }
                cursor.failures = 0
            } catch {
                releaseHeldRemove(&cursor)
                return handle(error, during: "GetShardIterator", shard: shard, cursor: &cursor)
            }
        }
        let page: RecordsPage
        do {
            page = try streams.getRecords(iterator: cursor.iterator!, limit: options.getRecordsLimit,
                                          keySchema: options.mapping.keySchema)
            cursor.failures = 0
        } catch {
            releaseHeldRemove(&cursor)
            if error.serviceError?.code == "ExpiredIteratorException" {
                // Renew after the last record read (or where we began).
                cursor.iterator = nil
                return .again
            }
            cursor.iterator = nil
            return handle(error, during: "GetRecords", shard: shard, cursor: &cursor)
        }
        return hand(page, of: shard, cursor: &cursor)
    }

    /// Gives a page to the core, then its new records to the lanes, in
    /// order, in one hand-off; then carries out what the core decided
    /// (children start only after their parent's records are queued).
    /// A REMOVE directly followed by a put of its key is not written, and a
    /// REMOVE that ends the page waits in the cursor for the next one: the
    /// rule is ``RemovePairing``'s.
    private func hand(_ page: RecordsPage, of shard: String, cursor: inout ShardPoller.Cursor) -> ShardPoller.Next {
        var refs: [ReplicationCore.RecordRef] = []
        refs.reserveCapacity(page.records.count)
        for record in page.records {
            guard let seq = SequenceNumber(record.sequenceNumber) else {
                perform(core.withLock { $0.failed("shard \(shard): stream record with an invalid sequence number") })
                return .done
            }
            refs.append(.init(sequence: seq, eventID: record.eventID, createdAt: record.approximateCreationDateTime))
        }
        if let last = refs.last { cursor.position = .afterSequenceNumber(last.sequence.digits) }
        let ended = page.nextShardIterator == nil
        let now = clock()
        // The core decides what is new under its lock; mapping and queueing
        // happen outside it. A drained parent's children are returned as
        // actions and started only after this page's changes are queued.
        let result = core.withLock { $0.pageRead(shard: shard, records: refs, ended: ended, now: now) }
        var inserted = 0, modified = 0, removed = 0
        var pairing = RemovePairing(held: cursor.heldRemove, capacity: result.accepted.count)
        cursor.heldRemove = nil
        var done: [Change.Origin] = result.beforeCutover
        for (index, origin) in result.accepted {
            let record = page.records[index]
            switch record.eventName {
            case "INSERT": inserted += 1
            case "MODIFY": modified += 1
            default: removed += 1
            }
            guard map(record, origin: origin, into: &pairing, done: &done) else { return .done }
        }
        cursor.heldRemove = pairing.finish(shardContinues: !ended)
        let changes = pairing.changes
        done += pairing.dropped
        counters.add {
            $0.polls += 1
            $0.read += page.records.count
            $0.inserted += inserted; $0.modified += modified; $0.removed += removed
            $0.outOfOrder += result.outOfOrder
            $0.beforeCutover += result.beforeCutover.count
            $0.pairedRemoves += pairing.dropped.count
        }
        pool.submit(contentsOf: changes)
        if !done.isEmpty { applied(done) }
        perform(result.actions)
        if ended {
            logger.info("shard read to its end", metadata: ["shard": "\(shard)"])
            return .done
        }
        cursor.iterator = page.nextShardIterator
        if page.records.isEmpty {
            cursor.idle = min(max(cursor.idle * 2, 0.02), options.idleBackoffMax)
            return .idle(cursor.idle)
        }
        cursor.idle = 0
        return .again
    }

    /// Queues a REMOVE the cursor held for its put (an error or a renewal
    /// came instead of the next page): it is applied as read.
    private func releaseHeldRemove(_ cursor: inout ShardPoller.Cursor) {
        guard let removal = cursor.heldRemove else { return }
        cursor.heldRemove = nil
        pool.submit(contentsOf: [removal])
    }

    /// Maps one record into `pairing` (which folds a REMOVE into the put
    /// after it), or into `done` when nothing is to be written (a TTL
    /// expiry skipped, a MODIFY that changed nothing, a malformed record
    /// dead-lettered). False when the run must stop.
    private func map(_ record: StreamRecord, origin: Change.Origin, into pairing: inout RemovePairing,
                     done: inout [Change.Origin]) -> Bool {
        let mapped: MappedRecord
        do {
            mapped = try mapper.map(record, origin: origin)
        } catch {
            // Bad bytes in the stream cannot be applied; keep them for a person.
            noteError("\(error)")
            do {
                try deadLetters?.record(origin: origin, kind: record.eventName, keys: try? record.keys.readItem(),
                                        reason: error.reason)
            } catch {
                perform(core.withLock { $0.failed("cannot write the dead-letter file: \(error)") })
                return false
            }
            counters.add { $0.deadLettered += 1 }
            pairing.addNothing()
            done.append(origin)
            return true
        }
        switch mapped {
        case .change(let change):
            pairing.add(change, fromRemove: record.eventName == "REMOVE")
        case .skipTTL:
            counters.add { $0.skippedTTL += 1 }
            pairing.addNothing()
            done.append(origin)
        case .nothing:
            pairing.addNothing()
            done.append(origin)
        case .fetch(let key):
            guard let change = fetchCurrent(key: key, origin: origin) else { return false }
            pairing.add(change, fromRemove: false)
        }
        return true
    }

    /// KEYS_ONLY and OLD_IMAGE streams: the change is the item as the
    /// source has it now (a put), or a delete when it is gone.
    private func fetchCurrent(key: ItemKey, origin: Change.Origin) -> Change? {
        guard let source, let table = options.sourceTable else {
            perform(core.withLock { $0.failed("the stream carries no new images and the source table is unknown") })
            return nil
        }
        var failures = 0
        while true {
            do {
                let item = try source.getItem(table: table, key: key.attributes, consistentRead: true)
                requestsCompleted.add(1, ordering: .relaxed)
                return mapper.change(forCurrent: item, key: key, origin: origin)
            } catch {
                if error.retryClass == .terminal {
                    perform(core.withLock { $0.failed("reading the current item from \(table) failed: \(error)") })
                    return nil
                }
                // Throttled or unavailable after the client's own retries:
                // keep trying, more slowly. A stop leaves the record
                // unacknowledged, to be read again on restart.
                failures += 1
                noteError("reading the current item from \(table): \(error) (attempt \(failures))")
                var left = min(Double(failures), 10)
                while left > 0 && !isStopping { usleepSeconds(min(left, 0.05)); left -= 0.05 }
                if isStopping { return nil }
            }
        }
    }

    /// Decides what a failed call means and when to try the shard again.
    private func handle(_ error: AWSClientError, during operation: String, shard: String,
                        cursor: inout ShardPoller.Cursor) -> ShardPoller.Next {
        let now = clock()
        switch error.serviceError?.code {
        case "TrimmedDataAccessException"?:
            let after: SequenceNumber? = {
                if case .afterSequenceNumber(let s) = cursor.position { return SequenceNumber(s) }
                return nil
            }()
            let actions = core.withLock { $0.trimmed(shard: shard, after: after, operation: operation, now: now) }
            perform(actions.filter { if case .poll = $0 { return false }; return true })
            guard options.skipTrimmedGaps else { return .done }
            cursor.position = .trimHorizon
            cursor.iterator = nil
            return .again
        case "ResourceNotFoundException"?:
            // The shard aged out of the stream while we waited for it.
            noteError("shard \(shard) is gone from the stream (\(operation)): \(error)")
            perform(core.withLock { $0.drained(shard, now: now) })
            return .done
        default:
            break
        }
        if error.retryClass == .terminal {
            perform(core.withLock { $0.failed("shard \(shard): \(error)") })
            return .done
        }
        // The client already retried with backoff (LimitExceededException
        // and throttling among them); this shard waits longer, the others go on.
        cursor.failures += 1
        noteError("shard \(shard): \(error) (attempt \(cursor.failures))")
        return .retry(min(Double(cursor.failures), 10))
    }
}
