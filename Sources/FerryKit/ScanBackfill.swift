import AWSClient
import Dispatch
import DynamoModel
import Foundation
import Logging
import Replication
import Synchronization

/// `ferry backfill --scan`: a parallel Scan of the source into the target
/// through the writer pool. Each segment's LastEvaluatedKey is saved once
/// every item before it is applied, so a restart resumes each segment where
/// it stopped.
public final class ScanBackfill: Sendable {
    public let config: FerryConfig
    public let services: Services
    public let logger: Logger
    public let counters = ReplicationCounters()
    let tracker = UnitTracker()
    let stopping = Atomic<Bool>(false)
    public let progress: Mutex<BackfillProgress>
    let sourceTable: String
    public let totalSegments: Int

    public init(config: FerryConfig, services: Services, logger: Logger) throws {
        guard let table = config.source.table else { throw SetupError("source.table is required for a scan backfill") }
        self.config = config
        self.services = services
        self.logger = logger
        self.sourceTable = table
        let saved = try BackfillProgress.load(path: config.state.backfill, source: "scan:\(table)")
        let segments = saved?.totalSegments ?? (config.backfill.segments > 0 ? config.backfill.segments
                                                 : 4 * ProcessInfo.processInfo.activeProcessorCount)
        if let saved, let total = saved.totalSegments, config.backfill.segments > 0, total != config.backfill.segments {
            logger.warning("resuming with the segment count of the interrupted scan",
                           metadata: ["segments": "\(total)", "configured": "\(config.backfill.segments)"])
        }
        totalSegments = segments
        var initial = saved ?? BackfillProgress(source: "scan:\(table)")
        initial.totalSegments = segments
        progress = Mutex(initial)
    }

    public func stop() { stopping.store(true, ordering: .relaxed) }
    var isStopping: Bool { stopping.load(ordering: .relaxed) }

    public struct Summary: Sendable, Equatable {
        public var items: Int
        public var deadLettered: Int
        public var seconds: Double
        public var complete: Bool
    }

    /// Runs to the end (or until ``stop()``); returns what was done.
    public func run(keySchema: KeySchema, onProgress: @escaping @Sendable (BackfillProgress, ReplicationCounters.Totals) -> Void = { _, _ in })
        throws -> Summary {
        let started = Date()
        let pool = try services.backfillPool(keySchema: keySchema, counters: counters, tracker: tracker)
        let pacerItems = ReadPacer(rate: config.backfill.itemsPerSecond)
        let pacerUnits = ReadPacer(rate: config.backfill.readUnitsPerSecond)
        let readers = DispatchGroup()
        let failure = Mutex<String?>(nil)

        // Segments are units in a queue served by a fixed set of readers
        // (`backfill.readers`): 64 segments do not mean 64 threads.
        let snapshot = progress.withLock { $0 }
        var pending: [(segment: Int, name: String, resume: Item?)] = []
        for segment in 0..<totalSegments {
            let name = "segment-\(segment)"
            let saved = snapshot.segments[name]
            if saved?.done == true { continue }
            let resume: Item? = try saved?.resumeKey.map { try DynamoJSONReader.readItem($0) }
            tracker.start(name, applied: saved?.applied ?? 0, resumeKey: resume)
            pending.append((segment, name, resume))
        }
        let units = pending
        let next = Atomic<Int>(0)
        for worker in 0..<min(units.count, config.backfill.readers) {
            readers.enter()
            DispatchQueue(label: "ferry.scan.\(worker)").async { [self] in
                defer { readers.leave() }
                while !isStopping {
                    let index = next.add(1, ordering: .relaxed).oldValue
                    guard index < units.count else { return }
                    let unit = units[index]
                    do {
                        try readSegment(unit.segment, name: unit.name, from: unit.resume, pool: pool, keySchema: keySchema,
                                        items: pacerItems, units: pacerUnits)
                    } catch {
                        failure.withLock { $0 = $0 ?? "segment \(unit.segment): \(error)" }
                        stop()
                    }
                }
            }
        }

        // Save progress every second while the segments run.
        while readers.wait(timeout: .now() + 1) == .timedOut {
            if let fatal = pool.fatalError { failure.withLock { $0 = $0 ?? fatal.description }; stop() }
            save()
            onProgress(progress.withLock { $0 }, counters.snapshot)
        }
        let drained = pool.drain(deadline: .now() + Double(config.stream.drainDeadlineSeconds))
        if let fatal = pool.fatalError { failure.withLock { $0 = $0 ?? fatal.description } }
        save()
        let final = progress.withLock { p -> BackfillProgress in
            p.finished = (0..<totalSegments).allSatisfy { p.segments["segment-\($0)"]?.done == true }
            return p
        }
        try final.save(path: config.state.backfill)
        onProgress(final, counters.snapshot)
        if let why = failure.withLock({ $0 }) { throw SetupError("scan backfill stopped: \(why)") }
        if !drained { logger.warning("not every write was applied before the drain deadline; a restart sends them again") }
        let totals = counters.snapshot
        return Summary(items: totals.put, deadLettered: totals.deadLettered, seconds: Date().timeIntervalSince(started),
                       complete: final.finished)
    }

    private func readSegment(_ segment: Int, name: String, from resume: Item?, pool: WriterPool, keySchema: KeySchema,
                             items: ReadPacer, units: ReadPacer) throws {
        var start = resume
        // Under a rate limit, smaller pages spread the reads evenly.
        let limit = config.backfill.itemsPerSecond > 0
            ? max(10, min(1000, config.backfill.itemsPerSecond / max(1, totalSegments))) : 1000
        while !isStopping {
            let page = try services.source.scan(table: sourceTable, segment: segment, totalSegments: totalSegments,
                                                exclusiveStartKey: start, limit: limit,
                                                consistentRead: config.backfill.consistentRead)
            counters.add { $0.read += page.items.count }
            for item in page.items {
                let key = try keySchema.key(ofItemIn: item.buffer, range: item.rawRange)
                pool.submit(Change(kind: .put, key: key, payload: Array(item.rawBytes), origin: tracker.next(name)))
            }
            tracker.markPage(name, continuation: page.lastEvaluatedKey)
            items.take(Double(page.items.count), isStopping: { isStopping })
            units.take(page.consumedCapacity ?? Double(page.items.count) / 2, isStopping: { isStopping })
            guard let next = page.lastEvaluatedKey else {
                tracker.finishReading(name)
                return
            }
            start = next
        }
    }

    /// Copies the tracker's state into the progress file.
    func save() {
        let snapshot = progress.withLock { p -> BackfillProgress in
            for (name, s) in tracker.all {
                p.segments[name] = BackfillProgress.Segment(applied: s.resumeAt, resumeKey: BackfillProgress.keyText(s.resumeKey),
                                                            done: s.complete)
            }
            return p
        }
        do {
            try snapshot.save(path: config.state.backfill)
        } catch {
            logger.warning("backfill progress not written", metadata: ["error": "\(error)"])
        }
    }
}
