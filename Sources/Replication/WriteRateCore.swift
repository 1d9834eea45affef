/// The decisions of the pool-wide write rate, with no clock and no lock:
/// additive increase, multiplicative decrease (AIMD) of a token bucket of
/// write capacity units (WCU) per second.
///
/// - No limit and no throttling: no bucket at all (the writers' fast path).
/// - A throttling answer (ProvisionedThroughputExceededException,
///   ThrottlingException, UnprocessedItems) halves the rate: the current
///   limit, or without one the rate measured just before. Never below
///   `floor` (25 WCU/s: one full batch of small items per second). Lanes
///   are throttled together, so answers within `cutSpacingSeconds` (1 s)
///   of a cut count as the same event and cut once.
/// - After `quietSeconds` (5 s) without throttling the rate rises by one
///   step, `max(floor, stepFraction × ceiling)` (a tenth of the configured
///   maximum, or of the rate at which throttling began), one step per
///   quiet interval: back to the maximum, or, without one, until the rate
///   is twice the one that was throttled, where the bucket goes away.
public struct WriteRateCore: Sendable, Equatable {
    public struct Settings: Sendable, Equatable {
        /// WCU per second that is never exceeded; 0: no limit.
        public var maximum: Double = 0
        public var floor: Double = 25
        public var quietSeconds: Double = 5
        public var cutSpacingSeconds: Double = 1
        public var stepFraction: Double = 0.1

        public init(maximum: Double = 0) { self.maximum = maximum }
    }

    public let settings: Settings
    /// Nil while there is no limit.
    public private(set) var bucket: TokenBucket?
    /// The configured maximum, or the rate measured when throttling began.
    private var ceiling: Double
    private var lastThrottle = -Double.infinity
    private var lastCut = -Double.infinity
    private var lastRaise = -Double.infinity

    public init(settings: Settings, now: Double) {
        self.settings = settings
        ceiling = settings.maximum
        if settings.maximum > 0 { bucket = TokenBucket(rate: settings.maximum, now: now) }
    }

    /// WCU per second allowed now; nil: no limit.
    public var limit: Double? { bucket?.rate }

    /// Takes `units`: 0 when they may be sent now, otherwise the seconds to
    /// wait before asking again.
    public mutating func take(_ units: Double, now: Double) -> Double {
        raiseIfQuiet(now: now)
        guard var b = bucket else { return 0 }
        let wait = b.take(units, now: now)
        bucket = b
        return wait
    }

    /// A throttling answer. `measuredRate`: the WCU per second sent just
    /// before, the base of the first cut when there is no limit.
    public mutating func throttled(now: Double, measuredRate: Double) {
        lastThrottle = now
        guard now - lastCut >= settings.cutSpacingSeconds else { return }
        lastCut = now
        if var b = bucket {
            b.setRate(max(settings.floor, b.rate / 2), now: now)
            bucket = b
        } else {
            ceiling = max(settings.floor, measuredRate)
            // Empty: the lanes were just told to slow down.
            bucket = TokenBucket(rate: max(settings.floor, ceiling / 2), now: now, full: false)
        }
    }

    private mutating func raiseIfQuiet(now: Double) {
        guard var b = bucket, now - max(lastThrottle, lastRaise, lastCut) >= settings.quietSeconds else { return }
        if settings.maximum > 0 && b.rate >= settings.maximum { return }
        lastRaise = now
        let raised = b.rate + max(settings.floor, ceiling * settings.stepFraction)
        if settings.maximum > 0 {
            b.setRate(min(raised, settings.maximum), now: now)
        } else if raised > 2 * ceiling {
            bucket = nil  // well past the rate that was throttled: no limit again
            return
        } else {
            b.setRate(raised, now: now)
        }
        bucket = b
    }
}
