#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import AWSClient
import DynamoModel
import Logging

/// Differences waiting for their re-check, oldest first. Every candidate
/// is due `recheckDelay` after it was queued, so the queue is in due order.
struct RecheckQueue {
    struct Candidate {
        var key: ItemKey
        var pass: VerifyProgress.Pass
        /// Re-checks done so far.
        var attempts: Int
        /// Monotonic seconds at which to read it again.
        var due: Double
    }

    private var items: [Candidate] = []
    private var head = 0

    var isEmpty: Bool { head == items.count }
    var firstDue: Double? { isEmpty ? nil : items[head].due }

    mutating func add(_ candidate: Candidate) {
        if head > 0 && head == items.count {
            items.removeAll(keepingCapacity: true)
            head = 0
        }
        items.append(candidate)
    }

    /// Up to `limit` candidates due by `now`.
    mutating func takeDue(_ now: Double, limit: Int) -> [Candidate] {
        var out: [Candidate] = []
        while head < items.count, out.count < limit, items[head].due <= now {
            out.append(items[head])
            head += 1
        }
        return out
    }
}

extension Verifier {
    /// Re-checks every candidate that is due now, without waiting.
    func recheckDue(_ queue: inout RecheckQueue, worker: Int) throws(VerifyError) {
        while true {
            let batch = queue.takeDue(environment.now(), limit: options.batchSize)
            if batch.isEmpty { return }
            try recheck(batch, requeue: &queue, worker: worker)
        }
    }

    /// Waits for and re-checks every candidate left, at the end of a unit.
    func drain(_ queue: inout RecheckQueue, worker: Int) throws(VerifyError) {
        while let due = queue.firstDue, !isStopping {
            let wait = due - environment.now()
            // Short slices, so that stop() is noticed.
            if wait > 0 && !environment.sleep(min(wait, 0.25)) { return }
            try recheckDue(&queue, worker: worker)
        }
    }

    /// Reads a batch of differences again, consistently on both sides.
    private func recheck(_ batch: [RecheckQueue.Candidate], requeue: inout RecheckQueue, worker: Int) throws(VerifyError) {
        hooks.beforeRecheck?(batch.map(\.key.attributes))
        let keys = batch.map(\.key)
        let sources = try sourceReader().fetch(keys, consistent: true, isStopping: { isStopping })
        let targets = try targetReader(worker).fetch(keys, consistent: true, isStopping: { isStopping })
        let due = environment.now() + options.recheckDelay
        for var candidate in batch {
            let sourceItem = sources[candidate.key], targetItem = targets[candidate.key]
            let verdict: Verdict
            switch candidate.pass {
            case .compare:
                verdict = Verdict(source: sourceItem, target: targetItem)
            case .extraItems:
                // Only presence matters here; differences are the compare pass's.
                verdict = sourceItem == nil && targetItem != nil ? .extraInTarget : .equal
            }
            if verdict == .equal {
                counts.withLock {
                    $0.resolvedOnRecheck += 1
                    if candidate.pass == .compare { $0.equal += 1 }
                }
                continue
            }
            candidate.attempts += 1
            if candidate.attempts < options.recheckAttempts {
                candidate.due = due
                requeue.add(candidate)
                continue
            }
            if candidate.pass == .extraItems && reportedExtras.withLock({ $0.contains(candidate.key) }) { continue }
            try settle(candidate, verdict: verdict, source: sourceItem, target: targetItem, worker: worker)
        }
    }

    /// Records a difference that persisted, repairing it first if asked.
    private func settle(_ candidate: RecheckQueue.Candidate, verdict: Verdict, source: Item?, target: Item?,
                        worker: Int) throws(VerifyError) {
        guard let kind = verdict.kind else { return }
        var differences: [AttributeDifference] = []
        if case .different(let found) = verdict { differences = found }
        var mismatch = Mismatch(kind: kind, key: candidate.key.attributes, differences: differences, source: source,
                                target: target, observedAt: Self.wallClock())
        if options.repair {
            mismatch.repaired = try repair(kind, key: candidate.key, source: source, worker: worker)
        }
        if kind == .extraInTarget && !mismatch.repaired && candidate.pass == .compare {
            reportedExtras.withLock { _ = $0.insert(candidate.key) }
        }
        counts.withLock {
            switch kind {
            case .missingInTarget: $0.missingInTarget += 1
            case .extraInTarget: $0.extraInTarget += 1
            case .different: $0.different += 1
            }
            if mismatch.repaired { $0.repaired += 1 }
        }
        // Attribute names only: keys and values stay out of logs.
        logger.debug("mismatch", metadata: [
            "kind": "\(kind.rawValue)", "attributes": "\(differences.map(\.description).joined(separator: ", "))",
            "repaired": "\(mismatch.repaired)",
        ])
        try sink.record(mismatch)
    }

    /// Makes the target agree with `source` for `key` (a put of the source
    /// item, or a delete when the source has none), then reads it back.
    private func repair(_ kind: MismatchKind, key: ItemKey, source: Item?, worker: Int) throws(VerifyError) -> Bool {
        let client = targetClient(worker)
        if let source {
            do {
                try client.putItem(table: options.targetTable, item: source)
            } catch {
                throw .call(side: .target, operation: "PutItem", error: error)
            }
        } else {
            do {
                try client.deleteItem(table: options.targetTable, key: key.attributes)
            } catch {
                throw .call(side: .target, operation: "DeleteItem", error: error)
            }
        }
        let after = try targetReader(worker).fetch([key], consistent: true, isStopping: { false })[key]
        let repaired = Verdict(source: source, target: after) == .equal
        if !repaired {
            logger.warning("a repaired item still differs when read back", metadata: ["kind": "\(kind.rawValue)"])
        }
        return repaired
    }

    static func wallClock() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}
