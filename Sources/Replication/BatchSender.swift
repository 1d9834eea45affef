import AWSClient
import Dispatch
import DynamoModel

/// Applies a lane's changes to the target, in order: puts and deletes
/// gathered into BatchWriteItem requests (the last change of a key wins
/// within a batch), updates sent alone between them. Retries throttling,
/// 5xx and UnprocessedItems with backoff; a write the target refuses for
/// good goes to the dead-letter file. Reports every applied change's origin.
/// Every attempt first takes its write units from the pool's ``WriteRate``,
/// and every throttling answer tells it to slow down.
///
/// Holds no state between calls: whichever writer thread serves a lane
/// calls it, one call per lane at a time.
struct BatchSender: Sendable {
    /// What every writer of a pool shares.
    struct Shared: Sendable {
        let options: WriterPoolOptions
        let target: any TargetWriter
        let keySchema: KeySchema
        let counters: ReplicationCounters
        let deadLetters: DeadLetterFile?
        let onApplied: @Sendable ([Change.Origin]) -> Void
        let random: @Sendable () -> Double
        let rate: WriteRate
    }

    let shared: Shared

    /// Whether changes of a shard may still be sent (lease mode).
    typealias Admission = (String) -> Bool

    /// Applies `changes` in order. Throws ``Aborted`` (the pool is giving
    /// up: shutdown deadline) or a request-level terminal error (the pool
    /// must stop); what was not applied then is not acknowledged.
    ///
    /// With `admits`, every attempt first drops the changes of shards it
    /// refuses, and sends under a ``RequestGate`` that asks again right
    /// before the request leaves: a worker paused past its lease sends
    /// nothing for the shards it lost when it wakes up.
    func apply(_ changes: [Change], isAborting: () -> Bool, admits: Admission? = nil) throws {
        var batch = Batch(capacity: shared.options.batchSize)
        for change in changes {
            if change.kind == .update {
                try send(&batch, isAborting, admits)
                try applyUpdate(change, isAborting, admits)
                continue
            }
            if !batch.add(change) {
                try send(&batch, isAborting, admits)
                _ = batch.add(change)
            }
            if batch.isFull { try send(&batch, isAborting, admits) }
        }
        try send(&batch, isAborting, admits)
    }

    /// Runs one attempt under a gate on `sources`, when there is an admission.
    private func gated<T>(_ sources: @autoclosure () -> Set<String>, _ admits: Admission?,
                          _ attempt: () throws(AWSClientError) -> T) throws(AWSClientError) -> T {
        guard let admits else { return try attempt() }
        let sources = sources()
        return try RequestGate.guarding({ sources.allSatisfy(admits) }, attempt)
    }

    private static func isWithheld(_ error: AWSClientError) -> Bool {
        if case .http(let e) = error { return e.kind == .withheld }
        return false
    }

    struct Aborted: Error {}

    /// Applies `batch` until every write is acknowledged or dead-lettered,
    /// then reports its origins. Throws `Aborted` (shutdown deadline) or a
    /// request-level terminal error (the pool must stop).
    private func send(_ batch: inout Batch, _ isAborting: () -> Bool, _ admits: Admission?) throws {
        guard !batch.isEmpty else { return }
        var attempt = 0
        while true {
            if isAborting() { throw Aborted() }
            if let admits { batch.withhold(unless: admits) }
            if batch.isEmpty { break }
            try take(Self.writeUnits(batch.writes), isAborting)
            let writes = batch.writes.map(Self.writeRequest)
            switch Result(catching: { () throws(AWSClientError) in
                try gated(batch.sources, admits) { () throws(AWSClientError) in try shared.target.batchWrite(writes) }
            }) {
            case .success(let unprocessed):
                shared.counters.add { $0.batches += 1 }
                if unprocessed.isEmpty {
                    count(batch.writes)
                    batch.retain(keys: [])
                    break
                }
                let keys = unprocessed.compactMap(keyOf)
                // Keys we cannot match to our writes: send the whole batch
                // again rather than guess (puts and deletes are idempotent).
                if keys.count == unprocessed.count {
                    let left = Set(keys)
                    count(batch.writes.filter { !left.contains($0.key) })
                    batch.retain(keys: left)
                }
                throttled()
                try pause(attempt: attempt, .throttling, isAborting)
                attempt += 1
            case .failure(let error) where Self.isWithheld(error):
                continue  // the next turn drops the refused shards' writes
            case .failure(let error):
                switch error.retryClass {
                case .throttling, .transient:
                    if error.retryClass == .throttling { throttled() } else { shared.counters.add { $0.retries += 1 } }
                    try pause(attempt: attempt, error.retryClass, isAborting)
                    attempt += 1
                case .terminal:
                    guard Self.isItemLevel(error) else { throw error }
                    try isolate(&batch, isAborting, admits)
                }
            }
        }
        shared.onApplied(batch.origins)
        batch = Batch(capacity: shared.options.batchSize)
    }

    /// A batch the target refused as invalid: send its writes one by one, so
    /// only the bad ones go to the dead-letter file.
    private func isolate(_ batch: inout Batch, _ isAborting: () -> Bool, _ admits: Admission?) throws {
        for write in batch.writes {
            let outcome = try sendAlone(write, isAborting, admits) { () throws(AWSClientError) -> Bool in
                try shared.target.batchWrite([Self.writeRequest(write)]).isEmpty
            }
            if outcome == .applied { count([write]) }
        }
        batch.retain(keys: [])
        // What was skipped for a lost lease is not acknowledged.
        if let admits { batch.withhold(unless: admits) }
    }

    private func applyUpdate(_ change: Change, _ isAborting: () -> Bool, _ admits: Admission?) throws {
        let outcome = try sendAlone(change, isAborting, admits) { () throws(AWSClientError) -> Bool in
            try shared.target.update(body: change.payload)
            return true
        }
        switch outcome {
        case .refused:
            return  // not applied, not acknowledged
        case .applied:
            let units = Self.writeUnits([change])
            shared.counters.add { $0.updated += 1; $0.writeUnits += units }
        case .deadLettered:
            break
        }
        if let origin = change.origin { shared.onApplied([origin]) }
    }

    private enum AloneOutcome { case applied, deadLettered, refused }

    /// Sends one change on its own until it is applied, dead-lettered (the
    /// target refuses the item for good) or refused by the admission (its
    /// lease was lost). `sendOnce` makes one attempt: false when the target
    /// left the write unprocessed. Throttling and transient errors are
    /// retried with backoff; a request-level terminal error is thrown.
    private func sendAlone(_ change: Change, _ isAborting: () -> Bool, _ admits: Admission?,
                           _ sendOnce: () throws(AWSClientError) -> Bool) throws -> AloneOutcome {
        let source = change.origin?.source
        var attempt = 0
        while true {
            if isAborting() { throw Aborted() }
            if let admits, let source, !admits(source) { return .refused }
            try take(Self.writeUnits([change]), isAborting)
            switch Result(catching: { () throws(AWSClientError) in try gated(source.map { [$0] } ?? [], admits, sendOnce) }) {
            case .failure(let error) where Self.isWithheld(error):
                continue  // the next turn finds the shard refused
            case .success(true):
                return .applied
            case .success(false):
                throttled()
                try pause(attempt: attempt, .throttling, isAborting)
            case .failure(let error):
                if error.retryClass == .terminal {
                    guard Self.isItemLevel(error) else { throw error }
                    try deadLetter(change, error)
                    return .deadLettered
                }
                if error.retryClass == .throttling { throttled() } else { shared.counters.add { $0.retries += 1 } }
                try pause(attempt: attempt, error.retryClass, isAborting)
            }
            attempt += 1
        }
    }

    private func deadLetter(_ change: Change, _ error: AWSClientError) throws {
        let reason = error.serviceError.map { "\($0.code): \($0.message.prefix(200))" } ?? error.code
        try shared.deadLetters?.record(change, reason: reason)
        shared.counters.add { $0.deadLettered += 1 }
    }

    private func count(_ writes: [Change]) {
        var puts = 0, deletes = 0
        for w in writes { if w.kind == .delete { deletes += 1 } else { puts += 1 } }
        let units = Self.writeUnits(writes)
        shared.counters.add { $0.put += puts; $0.deleted += deletes; $0.writeUnits += units }
    }

    /// A throttled attempt: counted, and the pool's rate goes down.
    private func throttled() {
        shared.counters.add { $0.throttles += 1 }
        shared.rate.throttled()
    }

    private func take(_ units: Int, _ isAborting: () -> Bool) throws {
        guard shared.rate.take(units, isAborting: isAborting) else { throw Aborted() }
    }

    /// Write capacity units, as DynamoDB bills them: a put costs its item's
    /// size in KB rounded up (at least 1), a delete 1. The size is that of
    /// the DynamoDB JSON, a little more than DynamoDB's own measure (names
    /// and values), so the estimate errs on the safe side.
    static func writeUnits(_ changes: [Change]) -> Int {
        var units = 0
        for c in changes { units += c.kind == .delete ? 1 : max(1, (c.payload.count + 1023) / 1024) }
        return units
    }

    /// Sleeps the backoff for `attempt` in short slices, so a shutdown
    /// deadline is noticed.
    private func pause(attempt: Int, _ retryClass: RetryClass, _ isAborting: () -> Bool) throws {
        var remaining = shared.options.backoff.delay(retry: min(attempt, 30), for: retryClass, unit: shared.random())
        while remaining > 0 {
            if isAborting() { throw Aborted() }
            let slice = min(remaining, 0.05)
            usleepSeconds(slice)
            remaining -= slice
        }
    }

    private func keyOf(_ write: WriteRequest) -> ItemKey? {
        let bytes: ArraySlice<UInt8>
        switch write {
        case .put(let item): bytes = item
        case .delete(let key): bytes = key
        }
        return try? shared.keySchema.key(ofItemIn: Array(bytes))
    }

    static func writeRequest(_ change: Change) -> WriteRequest {
        change.kind == .delete ? .delete(key: change.payload[...]) : .put(item: change.payload[...])
    }

    /// Errors about one item (it stays refused whatever we do) as opposed to
    /// errors about the request or the setup (credentials, table, endpoint).
    static func isItemLevel(_ error: AWSClientError) -> Bool {
        guard let e = error.serviceError else { return false }
        return e.code == "ValidationException" || e.code == "SerializationException"
            || e.code == "ItemCollectionSizeLimitExceededException"
    }
}

#if canImport(Glibc)
import Glibc
#endif

func usleepSeconds(_ seconds: Double) {
    guard seconds > 0 else { return }
    var request = timespec(tv_sec: Int(seconds), tv_nsec: Int((seconds - Double(Int(seconds))) * 1e9))
    var remaining = timespec()
    while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
}
