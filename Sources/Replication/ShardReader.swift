import AWSClient
import DynamoModel
import Foundation
import Logging

/// Reads one shard from its start position to its end (or until the run
/// stops) and hands every record to the writer pool, in order.
///
/// GetRecords is called again at once while records come; an idle shard is
/// polled with a growing pause (up to `idleBackoffMax`), so lag stays low
/// without burning requests. An expired iterator is renewed after the last
/// record read; trimmed records are a gap, reported and never skipped
/// silently.
struct ShardReader: Sendable {
    let shard: String
    let start: ShardIteratorPosition
    let replicator: StreamReplicator

    func run() {
        var position = start
        var iterator: String?
        var idle = 0.0
        var failures = 0
        let options = replicator.options
        while !replicator.isStopping {
            if iterator == nil {
                do {
                    iterator = try replicator.streams.getShardIterator(arn: options.streamArn, shardId: shard, position: position)
                    // A LATEST iterator names no record. Renewing it at LATEST
                    // before the first record is read would skip whatever was
                    // written in between; renew from the trim horizon instead
                    // (an ordered replay, as after a restart).
                    if position == .latest { position = .trimHorizon }
                } catch {
                    guard handle(error, during: "GetShardIterator", position: &position, failures: &failures) else { return }
                    continue
                }
            }
            let page: RecordsPage
            do {
                page = try replicator.streams.getRecords(iterator: iterator!, limit: options.getRecordsLimit)
                failures = 0
            } catch {
                if error.serviceError?.code == "ExpiredIteratorException" {
                    // Renew after the last record read (or where we began).
                    iterator = nil
                    continue
                }
                guard handle(error, during: "GetRecords", position: &position, failures: &failures) else { return }
                iterator = nil
                continue
            }
            replicator.counters.add { $0.read += page.records.count }
            for record in page.records {
                guard let seq = SequenceNumber(record.sequenceNumber) else {
                    replicator.finish(.failed("shard \(shard): stream record with invalid sequence number"))
                    return
                }
                position = .afterSequenceNumber(seq.digits)
                guard replicator.issue(shard: shard, sequence: seq, createdAt: record.approximateCreationDateTime) else {
                    continue  // already handed out (a renewed iterator replays)
                }
                replicator.counters.add {
                    switch record.eventName {
                    case "INSERT": $0.inserted += 1
                    case "MODIFY": $0.modified += 1
                    default: $0.removed += 1
                    }
                }
                guard apply(record, origin: Change.Origin(source: shard, sequence: seq)) else { return }
            }
            replicator.noteRead(shard: shard, createdAt: page.records.last?.approximateCreationDateTime)
            guard let next = page.nextShardIterator else {
                replicator.drained(shard: shard)
                return
            }
            iterator = next
            if page.records.isEmpty {
                replicator.setCaughtUp(shard: shard, true)
                idle = min(max(idle * 2, 0.02), options.idleBackoffMax)
                sleep(idle)
            } else {
                if idle > 0 { replicator.setCaughtUp(shard: shard, false) }
                idle = 0
            }
        }
    }

    /// Maps and queues one record; false when the run must stop.
    private func apply(_ record: StreamRecord, origin: Change.Origin) -> Bool {
        let mapped: MappedRecord
        do {
            mapped = try replicator.mapper.map(record, origin: origin)
        } catch {
            // Bad bytes in the stream cannot be applied; keep them for a person.
            replicator.noteError("\(error)")
            do {
                try replicator.deadLetters?.record(origin: origin, kind: record.eventName, keys: try? record.keys.readItem(),
                                                   reason: error.reason)
            } catch {
                replicator.finish(.failed("cannot write the dead-letter file: \(error)"))
                return false
            }
            replicator.counters.add { $0.deadLettered += 1 }
            replicator.applied([origin])
            return true
        }
        switch mapped {
        case .change(let change):
            replicator.pool.submit(change)
        case .skipTTL:
            replicator.counters.add { $0.skippedTTL += 1 }
            replicator.applied([origin])
        case .nothing:
            replicator.applied([origin])
        case .fetch(let key):
            guard let source = replicator.source, let table = replicator.options.sourceTable else {
                replicator.finish(.failed("the stream carries no new images and the source table is unknown"))
                return false
            }
            var failures = 0
            while true {
                do {
                    let item = try source.getItem(table: table, key: key.attributes, consistentRead: true)
                    replicator.pool.submit(replicator.mapper.change(forCurrent: item, key: key, origin: origin))
                    break
                } catch {
                    if error.retryClass == .terminal {
                        replicator.finish(.failed("reading the current item from \(table) failed: \(error)"))
                        return false
                    }
                    // Throttled or unavailable after the client's own retries:
                    // keep trying, more slowly, as for GetRecords. A stop leaves
                    // the record unacknowledged, to be read again on restart.
                    failures += 1
                    replicator.noteError("reading the current item from \(table): \(error) (attempt \(failures))")
                    sleep(min(Double(failures), 10))
                    if replicator.isStopping { return false }
                }
            }
        }
        return true
    }

    /// Decides what a failed call means; false when the reader must end.
    private func handle(_ error: AWSClientError, during operation: String, position: inout ShardIteratorPosition,
                        failures: inout Int) -> Bool {
        switch error.serviceError?.code {
        case "TrimmedDataAccessException"?:
            let after: SequenceNumber? = { if case .afterSequenceNumber(let s) = position { return SequenceNumber(s) }; return nil }()
            replicator.reportGap(shard: shard, after: after,
                                 detail: "\(operation) answered TrimmedDataAccessException: records after this point are gone")
            guard replicator.options.skipTrimmedGaps else { return false }
            position = .trimHorizon
            return true
        case "ResourceNotFoundException"?:
            // The shard aged out of the stream while we waited for it.
            replicator.noteError("shard \(shard) is gone from the stream (\(operation)): \(error)")
            replicator.drained(shard: shard)
            return false
        default:
            break
        }
        if error.retryClass == .terminal {
            replicator.finish(.failed("shard \(shard): \(error)"))
            return false
        }
        // The client already retried with backoff; keep trying, more slowly.
        failures += 1
        replicator.noteError("shard \(shard): \(error) (attempt \(failures))")
        sleep(min(Double(failures), 10))
        return true
    }

    /// Sleeps in short slices so a stop is noticed at once.
    private func sleep(_ seconds: Double) {
        var left = seconds
        while left > 0 && !replicator.isStopping {
            let slice = min(left, 0.05)
            usleepSeconds(slice)
            left -= slice
        }
    }
}
