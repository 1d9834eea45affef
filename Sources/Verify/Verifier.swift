import AWSClient
import Dispatch
import DynamoModel
import Logging
import Synchronization

/// Hooks into a running ``Verifier``, for tests.
public struct VerifyHooks: Sendable {
    /// Called with the keys of a batch of differences just before they are
    /// read again, on the thread that reads them.
    public var beforeRecheck: (@Sendable ([Item]) -> Void)?

    public init(beforeRecheck: (@Sendable ([Item]) -> Void)? = nil) {
        self.beforeRecheck = beforeRecheck
    }
}

/// Where a running verification is, for progress lines.
public struct VerifyProgress: Sendable {
    public enum Pass: String, Sendable {
        /// Source items compared with the target.
        case compare
        /// Target items looked up in the source.
        case extraItems = "extra-items"
    }

    public var pass: Pass
    public var summary: VerifySummary
    /// Segments (or key batches) of this pass finished, and in all.
    public var unitsDone: Int
    public var unitsTotal: Int
}

/// `ferry verify`: compares a source table with its replica item by item.
///
/// 1. Compare: each segment of a parallel Scan of the source is read a page
///    at a time; the page's keys are fetched from the target with
///    BatchGetItem (100 per call) and every pair is compared with DynamoDB
///    semantics (``Verdict``).
/// 2. Extra items: each segment of a Scan of the target is read, and its
///    keys are looked up in the source the same way.
///
/// A difference is not reported at once: after `recheckDelay` both items
/// are read again with consistent reads, up to `recheckAttempts` times, and
/// only a difference that persists becomes a ``Mismatch`` (a change still
/// being applied by `ferry stream` goes away). With `repair`, the source
/// item is written to the target (or an extra target item deleted) and
/// read back. Workers keep their pending re-checks in their own queue, so a
/// re-check never holds up the other segments.
public final class Verifier: Sendable {
    public let options: VerifyOptions
    let source: DynamoDBClient
    let targets: [DynamoDBClient]
    let sink: any MismatchSink
    let sourceThrottle: (any ReadThrottle)?
    let targetThrottle: (any ReadThrottle)?
    let environment: RetryEnvironment
    let logger: Logger
    let hooks: VerifyHooks
    let stopping = Atomic<Bool>(false)
    let counts = Mutex(VerifySummary())
    /// Extra target items already reported by the compare pass, so the
    /// extra-item pass does not count them twice.
    let reportedExtras = Mutex<Set<ItemKey>>([])

    /// - Parameters:
    ///   - targets: clients for the target's nodes; workers use them in turn.
    ///   - environment: the clock, sleep and random source (injected by tests).
    public init(options: VerifyOptions, source: DynamoDBClient, targets: [DynamoDBClient], sink: any MismatchSink,
                sourceThrottle: (any ReadThrottle)? = nil, targetThrottle: (any ReadThrottle)? = nil,
                environment: RetryEnvironment = .system, logger: Logger = Logger(label: "ferry.verify"),
                hooks: VerifyHooks = VerifyHooks()) {
        precondition(!targets.isEmpty, "a verifier needs at least one target client")
        self.options = options
        self.source = source
        self.targets = targets
        self.sink = sink
        self.sourceThrottle = sourceThrottle
        self.targetThrottle = targetThrottle
        self.environment = environment
        self.logger = logger
        self.hooks = hooks
    }

    /// Asks a running verification to stop soon; ``run(onProgress:)`` then
    /// returns a summary marked incomplete.
    public func stop() { stopping.store(true, ordering: .relaxed) }
    var isStopping: Bool { stopping.load(ordering: .relaxed) }

    /// Runs the verification to its end (or until ``stop()``).
    ///
    /// - Parameter onProgress: called about once a second, and at the end
    ///   of each pass, on the calling thread.
    /// - Throws: ``VerifyError`` when the comparison itself fails.
    public func run(onProgress: @escaping @Sendable (VerifyProgress) -> Void = { _ in }) throws(VerifyError) -> VerifySummary {
        try options.validate()
        let started = environment.now()
        counts.withLock { $0.scope = options.scope.description }
        logger.info("verifying", metadata: [
            "source_table": "\(options.sourceTable)", "target_table": "\(options.targetTable)",
            "scope": "\(options.scope.description)", "segments": "\(options.segments)",
            "recheck_delay_ms": "\(Int(options.recheckDelay * 1000))", "recheck_attempts": "\(options.recheckAttempts)",
            "repair": "\(options.repair)",
        ])
        switch options.scope {
        case .keys(let keys):
            let chunks = try Self.keyChunks(keys, schema: options.keySchema, size: options.batchSize)
            try runUnits(chunks.count, pass: .compare, onProgress: onProgress) { unit, worker throws(VerifyError) in
                try self.compareKeys(chunks[unit], worker: worker)
            }
        case .all, .sample, .segments:
            try scanPass(.compare, onProgress: onProgress)
            if options.checkExtraItems && !isStopping {
                try scanPass(.extraItems, onProgress: onProgress)
            }
        }
        var summary = counts.withLock { $0 }
        summary.seconds = environment.now() - started
        summary.complete = !isStopping
        logger.info(summary.complete ? "verification finished" : "verification stopped before the end", metadata: [
            "compared": "\(summary.compared)", "equal": "\(summary.equal)", "missing_in_target": "\(summary.missingInTarget)",
            "extra_in_target": "\(summary.extraInTarget)", "different": "\(summary.different)", "repaired": "\(summary.repaired)",
            "resolved_on_recheck": "\(summary.resolvedOnRecheck)", "seconds": "\(Int(summary.seconds))",
        ])
        return summary
    }

    // MARK: - Units of work

    /// Where one segment's scan stopped.
    struct SegmentOutcome: Sendable {
        var taken: Int
        /// Where to go on from; nil when the segment is done.
        var resume: Item?
    }

    /// One pass over the segments of the scope. For a sample, each segment
    /// first takes an equal share; when some run out early (segments follow
    /// partition-key hashes, so a table with few partition keys has uneven
    /// ones), the shortfall is shared out again among those that have more.
    private func scanPass(_ pass: VerifyProgress.Pass, onProgress: @escaping @Sendable (VerifyProgress) -> Void) throws(VerifyError) {
        let total: Int
        var open: [(segment: Int, start: Item?)]
        var wanted: Int?
        switch options.scope {
        case .segments(let list, let count):
            total = count
            open = list.map { ($0, nil) }
        case .sample(let n):
            total = options.segments
            open = (0..<total).map { ($0, nil) }
            wanted = n
        case .all, .keys:
            total = options.segments
            open = (0..<total).map { ($0, nil) }
        }
        while !open.isEmpty && !isStopping && (wanted ?? 1) > 0 {
            var units: [(segment: Int, start: Item?, quota: Int?)] = []
            if let n = wanted {
                for (i, entry) in open.enumerated() {
                    let quota = n / open.count + (i < n % open.count ? 1 : 0)
                    if quota > 0 { units.append((entry.segment, entry.start, quota)) }
                }
            } else {
                units = open.map { ($0.segment, $0.start, nil) }
            }
            let outcomes = Mutex<[Int: SegmentOutcome]>([:])
            let plan = units
            try runUnits(plan.count, pass: pass, onProgress: onProgress) { unit, worker throws(VerifyError) in
                let (segment, start, quota) = plan[unit]
                let outcome = pass == .compare
                    ? try self.compareSegment(segment, of: total, from: start, quota: quota, worker: worker)
                    : try self.checkTargetSegment(segment, of: total, from: start, quota: quota, worker: worker)
                outcomes.withLock { $0[segment] = outcome }
            }
            let finished = outcomes.withLock { $0 }
            guard let n = wanted else { break }
            wanted = n - finished.values.reduce(0) { $0 + $1.taken }
            // Segments not given a share this round stay open as they were.
            open = open.compactMap { entry in
                guard let outcome = finished[entry.segment] else { return entry }
                return outcome.resume.map { (entry.segment, $0) }
            }
        }
    }

    static func keyChunks(_ keys: [Item], schema: KeySchema, size: Int) throws(VerifyError) -> [[ItemKey]] {
        var chunks: [[ItemKey]] = []
        var seen: Set<ItemKey> = []
        var current: [ItemKey] = []
        for item in keys {
            let key: ItemKey
            do {
                key = try schema.key(of: item)
            } catch {
                throw .invalidOption("a key does not match the table's key schema: \(error)")
            }
            guard seen.insert(key).inserted else { continue }
            current.append(key)
            if current.count == size {
                chunks.append(current)
                current = []
            }
        }
        if !current.isEmpty { chunks.append(current) }
        return chunks
    }

    /// Runs `count` units on up to `options.workers` threads, reporting progress once a second until all are done.
    /// The first failure stops the other workers and is thrown.
    private func runUnits(_ count: Int, pass: VerifyProgress.Pass, onProgress: @escaping @Sendable (VerifyProgress) -> Void,
                          _ body: @escaping @Sendable (_ unit: Int, _ worker: Int) throws(VerifyError) -> Void) throws(VerifyError) {
        guard count > 0 else { return }
        let next = Atomic<Int>(0)
        let done = Atomic<Int>(0)
        let failure = Mutex<VerifyError?>(nil)
        let group = DispatchGroup()
        let workers = max(1, min(count, options.workers))
        for worker in 0..<workers {
            group.enter()
            DispatchQueue(label: "ferry.verify.\(pass.rawValue).\(worker)").async { [self] in
                defer { group.leave() }
                while !isStopping {
                    let unit = next.add(1, ordering: .relaxed).oldValue
                    guard unit < count else { return }
                    switch Result(catching: { () throws(VerifyError) in try body(unit, worker) }) {
                    case .success:
                        done.add(1, ordering: .relaxed)
                    case .failure(let error):
                        failure.withLock { $0 = $0 ?? error }
                        stop()
                        return
                    }
                }
            }
        }
        func report() {
            onProgress(VerifyProgress(pass: pass, summary: counts.withLock { $0 }, unitsDone: done.load(ordering: .relaxed),
                                      unitsTotal: count))
        }
        while group.wait(timeout: .now() + 1) == .timedOut { report() }
        report()
        if let error = failure.withLock({ $0 }) { throw error }
    }

    func targetClient(_ worker: Int) -> DynamoDBClient { targets[worker % targets.count] }

    func sourceReader() -> BatchReader {
        BatchReader(client: source, table: options.sourceTable, side: .source, keySchema: options.keySchema,
                    throttle: sourceThrottle, environment: environment)
    }

    func targetReader(_ worker: Int) -> BatchReader {
        BatchReader(client: targetClient(worker), table: options.targetTable, side: .target, keySchema: options.keySchema,
                    throttle: targetThrottle, environment: environment)
    }

    // MARK: - Compare pass

    private func compareSegment(_ segment: Int, of total: Int, from resume: Item?, quota: Int?,
                                worker: Int) throws(VerifyError) -> SegmentOutcome {
        let target = targetReader(worker)
        var rechecks = RecheckQueue()
        var start = resume
        var remaining = quota ?? Int.max
        var taken = 0
        while !isStopping && remaining > 0 {
            let page = try source.verifyScan(table: options.sourceTable, side: .source, keySchema: options.keySchema,
                                             segment: segment, totalSegments: total, start: start,
                                             limit: min(options.pageLimit, remaining))
            sourceThrottle?.take(Double(page.items.count), isStopping: { isStopping })
            let items = page.items.prefix(remaining)
            remaining -= items.count
            taken += items.count
            var index = items.startIndex
            while index < items.endIndex {
                let chunk = items[index..<min(index + options.batchSize, items.endIndex)]
                let found = try target.fetchRaw(keysOf: chunk, consistent: false, isStopping: { isStopping })
                try compare(chunk, found: found, into: &rechecks)
                index = chunk.endIndex
            }
            try recheckDue(&rechecks, worker: worker)
            // A page cut short by the quota resumes after its last item taken.
            if items.count < page.items.count {
                start = items.last?.key.attributes
                break
            }
            guard let next = page.lastEvaluatedKey else {
                start = nil
                break
            }
            start = next
        }
        try drain(&rechecks, worker: worker)
        return SegmentOutcome(taken: taken, resume: start)
    }

    private func compareKeys(_ keys: [ItemKey], worker: Int) throws(VerifyError) {
        var rechecks = RecheckQueue()
        let sources = try sourceReader().fetchRaw(keys, consistent: false, isStopping: { isStopping })
        let found = try targetReader(worker).fetchRaw(keys, consistent: false, isStopping: { isStopping })
        var equal = 0
        let due = environment.now() + options.recheckDelay
        for key in keys {
            let source = sources[KeyBytes(key)], target = found[KeyBytes(key)]
            var same = source == nil && target == nil
            if let source, let target {
                same = try Self.same(source, target)
            }
            if same {
                equal += 1
            } else {
                rechecks.add(RecheckQueue.Candidate(key: key, pass: .compare, attempts: 0, due: due))
            }
        }
        counts.withLock {
            $0.compared += keys.count
            $0.equal += equal
        }
        try drain(&rechecks, worker: worker)
    }

    /// Compares source items with what the target holds for their keys;
    /// queues the differences for a re-check.
    private func compare(_ chunk: ArraySlice<RawItem>, found: [KeyBytes: RawItem], into rechecks: inout RecheckQueue) throws(VerifyError) {
        var equal = 0
        let due = environment.now() + options.recheckDelay
        for item in chunk {
            if let other = found[KeyBytes(item.key)], try Self.same(item, other) {
                equal += 1
            } else {
                rechecks.add(RecheckQueue.Candidate(key: item.key, pass: .compare, attempts: 0, due: due))
            }
        }
        counts.withLock {
            $0.compared += chunk.count
            $0.equal += equal
        }
    }

    static func same(_ source: RawItem, _ target: RawItem) throws(VerifyError) -> Bool {
        do {
            return try source.semanticallyEquals(target)
        } catch {
            let side: VerifyError.Side = (try? source.decoded()) == nil ? .source : .target
            throw .invalidData(side: side, detail: "an item that is not valid DynamoDB JSON: \(error)")
        }
    }

    // MARK: - Extra-item pass

    private func checkTargetSegment(_ segment: Int, of total: Int, from resume: Item?, quota: Int?,
                                    worker: Int) throws(VerifyError) -> SegmentOutcome {
        let sourceReader = sourceReader()
        var rechecks = RecheckQueue()
        var start = resume
        var remaining = quota ?? Int.max
        var taken = 0
        while !isStopping && remaining > 0 {
            let page = try targetClient(worker).verifyScan(table: options.targetTable, side: .target, keySchema: options.keySchema,
                                                           segment: segment, totalSegments: total, start: start,
                                                           limit: min(options.pageLimit, remaining))
            targetThrottle?.take(Double(page.items.count), isStopping: { isStopping })
            let items = page.items.prefix(remaining)
            remaining -= items.count
            taken += items.count
            var index = items.startIndex
            while index < items.endIndex {
                let chunk = items[index..<min(index + options.batchSize, items.endIndex)]
                let found = try sourceReader.fetchRaw(keysOf: chunk, consistent: false, isStopping: { isStopping })
                let due = environment.now() + options.recheckDelay
                for item in chunk where found[KeyBytes(item.key)] == nil {
                    rechecks.add(RecheckQueue.Candidate(key: item.key, pass: .extraItems, attempts: 0, due: due))
                }
                counts.withLock { $0.targetItemsChecked += chunk.count }
                index = chunk.endIndex
            }
            try recheckDue(&rechecks, worker: worker)
            // A page cut short by the quota resumes after its last item taken.
            if items.count < page.items.count {
                start = items.last?.key.attributes
                break
            }
            guard let next = page.lastEvaluatedKey else {
                start = nil
                break
            }
            start = next
        }
        try drain(&rechecks, worker: worker)
        return SegmentOutcome(taken: taken, resume: start)
    }
}
