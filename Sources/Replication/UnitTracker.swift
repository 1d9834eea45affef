import DynamoModel
import Synchronization

/// Progress of units of backfill work (an export's data file, a scan
/// segment): each unit's records are numbered 1, 2, 3… in reading order and
/// go through the writer pool; the tracker keeps a watermark per unit, so
/// "records applied" is always a prefix that a restart can skip safely.
///
/// Scan segments also attach resume keys to record numbers (the
/// LastEvaluatedKey of the page that ends there): ``resumeKey(_:)`` is the
/// key of the last page whose records are all applied.
public final class UnitTracker: Sendable {
    struct Unit: Sendable {
        var watermark: Watermark
        var issued = 0
        var readingDone = false
        var marks: [(end: Int, key: Item?)] = []
        var resumeKey: Item?
        var resumeAt = 0

        /// Moves the resume point over every page whose records are all applied.
        mutating func advance() {
            guard !marks.isEmpty else { return }
            let applied = Int(watermark.checkpoint?.digits ?? "0") ?? 0
            while let first = marks.first, first.end <= applied {
                resumeKey = first.key
                resumeAt = first.end
                marks.removeFirst()
            }
        }
    }

    private let units = Mutex<[String: Unit]>([:])

    public init() {}

    /// Starts (or resumes) a unit whose first `applied` records are done.
    public func start(_ unit: String, applied: Int, resumeKey: Item? = nil) {
        units.withLock { u in
            var entry = Unit(watermark: Watermark(checkpoint: applied > 0 ? SequenceNumber(String(applied)) : nil))
            entry.issued = applied
            entry.resumeKey = resumeKey
            entry.resumeAt = applied
            u[unit] = entry
        }
    }

    /// Numbers the unit's next record and registers it as in flight.
    public func next(_ unit: String) -> Change.Origin {
        units.withLock { u in
            u[unit, default: Unit(watermark: Watermark())].issued += 1
            let n = u[unit]!.issued
            let seq = SequenceNumber(String(n))!
            let ticket = u[unit]!.watermark.issue(seq)
            return Change.Origin(source: unit, sequence: seq, ticket: ticket)
        }
    }

    /// Registers several records of one unit under one lock (a chunk of an
    /// export file): numbers rise, gaps allowed.
    public func issue(_ unit: String, numbers: [Int]) -> [Change.Origin] {
        units.withLock { u in
            var entry = u.removeValue(forKey: unit) ?? Unit(watermark: Watermark())
            var origins: [Change.Origin] = []
            origins.reserveCapacity(numbers.count)
            for number in numbers {
                let seq = SequenceNumber(String(number))!
                origins.append(Change.Origin(source: unit, sequence: seq, ticket: entry.watermark.issue(seq)))
                entry.issued = number
            }
            u[unit] = entry
            return origins
        }
    }

    /// Marks that the records handed out so far end a page whose
    /// continuation is `key` (nil: the unit has no more pages).
    public func markPage(_ unit: String, continuation key: Item?) {
        units.withLock { u in
            // Mutate in place: a copy of the entry would copy its watermark.
            guard let issued = u[unit]?.issued else { return }
            u[unit]?.marks.append((issued, key))
            u[unit]?.advance()
        }
    }

    /// The reader has handed out every record of the unit.
    public func finishReading(_ unit: String) {
        units.withLock { $0[unit]?.readingDone = true }
    }

    /// Acknowledgements from the writer pool (origins of other kinds are ignored).
    public func applied(_ origins: [Change.Origin]) {
        units.withLock { u in
            // Origins come grouped by unit (a batch holds a few): one
            // dictionary lookup per run, the entry mutated in place.
            var i = 0
            while i < origins.count {
                let source = origins[i].source
                guard var entry = u.removeValue(forKey: source) else { i += 1; continue }
                while i < origins.count, origins[i].source == source {
                    entry.watermark.acknowledge(ticket: origins[i].ticket)
                    i += 1
                }
                entry.advance()
                u[source] = entry
            }
        }
    }


    public struct Snapshot: Sendable, Equatable {
        public var applied: Int
        public var issued: Int
        public var complete: Bool
        /// For scans: where to resume, and how many records precede it.
        public var resumeKey: Item?
        public var resumeAt: Int
    }

    public func snapshot(_ unit: String) -> Snapshot? {
        units.withLock { u in
            guard let e = u[unit] else { return nil }
            let applied = Int(e.watermark.checkpoint?.digits ?? "0") ?? 0
            return Snapshot(applied: applied, issued: e.issued, complete: e.readingDone && e.watermark.inFlight == 0,
                            resumeKey: e.resumeKey, resumeAt: e.resumeAt)
        }
    }

    public var all: [String: Snapshot] {
        let names = units.withLock { Array($0.keys) }
        var out: [String: Snapshot] = [:]
        for name in names { out[name] = snapshot(name) }
        return out
    }
}
