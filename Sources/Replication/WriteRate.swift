import Synchronization

/// The writer pool's write rate, shared by all its writers: a
/// ``WriteRateCore`` (AIMD over a token bucket of write capacity units)
/// behind a lock, with a lock-free fast path.
///
/// While there is no limit (none configured, no recent throttling) a
/// writer pays one relaxed atomic add per batch: `meter` holds the units
/// sent, shifted left by one, and its low bit says whether a limit
/// applies; the add both counts and reads that bit. The lock is taken
/// only while a limit applies, on throttling, and once per
/// `sampleUnits` units (to remember the recent rate for the first cut).
public final class WriteRate: Sendable {
    /// Units between two samples of the meter.
    static let sampleUnits = 1024

    private struct State: Sendable {
        var core: WriteRateCore
        /// The last two samples `(seconds, units)` of the meter.
        var samples: [(time: Double, units: Int)]
    }

    private let meter = Atomic<Int>(0)
    private let state: Mutex<State>
    private let clock: @Sendable () -> Double
    private let sleep: @Sendable (Double) -> Void
    private let onLimit: @Sendable (Double?) -> Void

    /// - Parameters:
    ///   - clock: seconds that never jump back; injectable with `sleep`, so
    ///     tests drive the bucket without waiting.
    ///   - onLimit: told of every new limit (nil: none), for the counters.
    public init(settings: WriteRateCore.Settings,
                clock: @escaping @Sendable () -> Double = monotonicSeconds,
                sleep: (@Sendable (Double) -> Void)? = nil,
                onLimit: @escaping @Sendable (Double?) -> Void = { _ in }) {
        let now = clock()
        let core = WriteRateCore(settings: settings, now: now)
        state = Mutex(State(core: core, samples: [(now, 0), (now, 0)]))
        self.clock = clock
        self.sleep = sleep ?? { usleepSeconds($0) }
        self.onLimit = onLimit
        if core.limit != nil { meter.store(1, ordering: .relaxed) }
        onLimit(core.limit)
    }

    /// WCU per second allowed now; nil: no limit.
    public var limit: Double? { state.withLock { $0.core.limit } }

    /// Waits until `units` write units may be sent. Returns false when
    /// `isAborting` said to stop first.
    public func take(_ units: Int, isAborting: () -> Bool) -> Bool {
        let old = meter.wrappingAdd(units << 1, ordering: .relaxed).oldValue
        if old & 1 == 0 {
            let before = old >> 1
            if before / Self.sampleUnits != (before + units) / Self.sampleUnits { sample(units: before + units) }
            return true
        }
        while true {
            if isAborting() { return false }
            let wait = update { s, now in s.core.take(Double(units), now: now) }
            if wait <= 0 { return true }
            sleep(min(wait, 0.1))  // in slices, so an abort is noticed
        }
    }

    /// A throttling answer from the target.
    public func throttled() {
        let units = meter.load(ordering: .relaxed) >> 1
        update { s, now in s.core.throttled(now: now, measuredRate: Self.measured(units, now, s.samples)) }
    }

    /// The recent send rate: over the last two samples (at least
    /// `sampleUnits` units), or the last one when it is a second old or more
    /// and shows more. Over at least a second: a few batches sent in the
    /// first milliseconds are not a rate.
    static func measured(_ units: Int, _ now: Double, _ samples: [(time: Double, units: Int)]) -> Double {
        func rate(_ s: (time: Double, units: Int)) -> Double { Double(units - s.units) / max(1, now - s.time) }
        let older = rate(samples[0])
        return now - samples[1].time >= 1 ? max(older, rate(samples[1])) : older
    }

    private func sample(units: Int) {
        let now = clock()
        state.withLock { $0.samples = [$0.samples[1], (now, units)] }
    }

    /// Runs `body` under the lock, keeps the meter's flag in step with the
    /// core, and reports a new limit (under the lock, so reports keep order).
    private func update<T>(_ body: (inout State, Double) -> T) -> T {
        let now = clock()
        return state.withLock { s in
            let before = s.core.limit
            let result = body(&s, now)
            let after = s.core.limit
            if after == nil { meter.bitwiseAnd(~1, ordering: .relaxed) } else { meter.bitwiseOr(1, ordering: .relaxed) }
            if before != after { onLimit(after) }
            return result
        }
    }
}
