import AWSClient
import Backfill
import Dispatch
import DynamoModel
import Foundation
import Logging
import Replication
import Synchronization

/// `ferry backfill --export`: loads one or more DynamoDB exports (a full
/// one, then incremental ones, applied in the order given) through the
/// writer pool, several data files at once, each streamed and checked.
/// Progress per data file (lines applied) is saved, so a restart skips
/// what is done.
public final class ExportBackfill: Sendable {
    public let config: FerryConfig
    public let services: Services
    public let logger: Logger
    public let locations: [String]
    public let counters = ReplicationCounters()
    let tracker = UnitTracker()
    let stopping = Atomic<Bool>(false)
    public let progress: Mutex<BackfillProgress>

    public init(config: FerryConfig, services: Services, logger: Logger, locations: [String]) throws {
        guard !locations.isEmpty else { throw SetupError("--export needs at least one export location") }
        self.config = config
        self.services = services
        self.logger = logger
        self.locations = locations
        let source = "export:" + locations.joined(separator: ",")
        progress = Mutex(try BackfillProgress.load(path: config.state.backfill, source: source) ?? BackfillProgress(source: source))
    }

    /// Records handed to the tracker and the lanes at once.
    static let chunkSize = 256

    public func stop() { stopping.store(true, ordering: .relaxed) }
    var isStopping: Bool { stopping.load(ordering: .relaxed) }

    /// The exports' manifests, in order, checked before anything is written.
    public func manifests() throws -> [(ExportLocation, any ExportStorage, ExportManifest)] {
        try locations.map { text in
            let location = try ExportLocation(parsing: text)
            let storage = try location.storage(s3: services.s3)
            return (location, storage, try ExportManifest.load(from: storage, location: location))
        }
    }

    public func run(keySchema: KeySchema, onProgress: @escaping @Sendable (BackfillProgress, ReplicationCounters.Totals) -> Void = { _, _ in })
        throws -> ScanBackfill.Summary {
        let started = Date()
        let exports = try manifests()
        let pool = try services.backfillPool(keySchema: keySchema, counters: counters, tracker: tracker)
        let failure = Mutex<String?>(nil)
        let reader = ExportFileReader()

        // Exports one after the other (later ones change what earlier ones
        // wrote); the data files of one export in parallel.
        exportLoop: for (_, storage, manifest) in exports {
            let saved = snapshot()
            let files = manifest.files.filter { file in saved.files[Self.unit(manifest, file)]?.done != true }
            logger.info("loading export", metadata: ["export": "\(manifest.exportId)", "type": "\(manifest.exportType.rawValue)",
                                                     "files": "\(manifest.files.count)", "files_left": "\(files.count)",
                                                     "items": "\(manifest.itemCount)"])
            let slots = DispatchSemaphore(value: config.backfill.parallelFiles)
            let group = DispatchGroup()
            for file in files {
                while slots.wait(timeout: .now() + 1) == .timedOut { save(); onProgress(snapshot(), counters.snapshot) }
                if isStopping || failure.withLock({ $0 }) != nil { slots.signal(); break }
                let unit = Self.unit(manifest, file)
                let skip = progress.withLock { $0.files[unit]?.lines ?? 0 }
                tracker.start(unit, applied: skip)
                group.enter()
                DispatchQueue(label: "ferry.export.\(file.key)").async { [self] in
                    defer { slots.signal(); group.leave() }
                    do {
                        // Records go to the tracker and the lanes a chunk at
                        // a time: one lock each per chunk, not per record.
                        var chunk: [(line: Int, record: ExportRecord, key: ItemKey)] = []
                        chunk.reserveCapacity(Self.chunkSize)
                        func handOff() {
                            guard !chunk.isEmpty else { return }
                            let origins = tracker.issue(unit, numbers: chunk.map(\.line))
                            var changes: [Change] = []
                            changes.reserveCapacity(chunk.count)
                            for (entry, origin) in zip(chunk, origins) {
                                switch entry.record {
                                case .put(let item, _): changes.append(Change(kind: .put, key: entry.key, payload: item, origin: origin))
                                case .delete(let keys, _): changes.append(Change(kind: .delete, key: entry.key, payload: keys, origin: origin))
                                }
                            }
                            pool.submit(contentsOf: changes)
                            chunk.removeAll(keepingCapacity: true)
                        }
                        try reader.read(file: file, storage: storage, keySchema: keySchema, skipLines: skip) { line, record, key in
                            if self.isStopping { throw StopReading() }
                            chunk.append((line, record, key))
                            if chunk.count == Self.chunkSize { handOff() }
                        }
                        handOff()
                        tracker.finishReading(unit)
                    } catch is StopReading {
                        return
                    } catch {
                        failure.withLock { $0 = $0 ?? "\(error)" }
                        self.stop()
                    }
                }
            }
            while group.wait(timeout: .now() + 1) == .timedOut {
                if let fatal = pool.fatalError { failure.withLock { $0 = $0 ?? fatal.description }; stop() }
                save()
                onProgress(snapshot(), counters.snapshot)
            }
            // The next export may change the same items: this one must be
            // applied in full first.
            pool.flush()
            save()
            if isStopping || failure.withLock({ $0 }) != nil { break exportLoop }
        }
        let drained = pool.drain(deadline: .now() + Double(config.stream.drainDeadlineSeconds))
        if let fatal = pool.fatalError { failure.withLock { $0 = $0 ?? fatal.description } }
        save()
        let final = progress.withLock { p -> BackfillProgress in
            p.finished = exports.allSatisfy { _, _, m in m.files.allSatisfy { p.files[Self.unit(m, $0)]?.done == true } }
            return p
        }
        try final.save(path: config.state.backfill)
        onProgress(final, counters.snapshot)
        if let why = failure.withLock({ $0 }) { throw SetupError("export backfill stopped: \(why)") }
        if !drained { logger.warning("not every write was applied before the drain deadline; a restart sends them again") }
        let totals = counters.snapshot
        return ScanBackfill.Summary(items: totals.put + totals.deleted, deadLettered: totals.deadLettered,
                                    seconds: Date().timeIntervalSince(started), complete: final.finished)
    }

    private struct StopReading: Error {}

    static func unit(_ manifest: ExportManifest, _ file: DataFile) -> String { "\(manifest.exportId)/\(file.key)" }

    func snapshot() -> BackfillProgress { progress.withLock { $0 } }

    /// Copies the tracker's state (lines applied, files complete) into the progress file.
    func save() {
        let snapshot = progress.withLock { p -> BackfillProgress in
            for (unit, s) in tracker.all {
                p.files[unit] = BackfillProgress.DataFile(lines: s.applied, done: s.complete)
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
