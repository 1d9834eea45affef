import Synchronization

/// The totals of the status file and the metrics, shared by readers and
/// lanes (a `Mutex`, taken briefly, once per batch or page).
public final class ReplicationCounters: Sendable {
    public struct Totals: Sendable, Equatable, Codable {
        public var read = 0
        public var put = 0
        public var deleted = 0
        public var updated = 0
        public var skippedTTL = 0
        public var deadLettered = 0
        public var retries = 0
        public var throttles = 0
        public var batches = 0
        public init() {}
    }

    private let totals = Mutex(Totals())

    public init() {}

    public func add(_ change: (inout Totals) -> Void) { totals.withLock { change(&$0) } }

    public var snapshot: Totals { totals.withLock { $0 } }
}
