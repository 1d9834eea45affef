/// A token bucket: `rate` units per second with a burst of one second's
/// worth. Only the arithmetic: the caller holds the lock, reads the clock
/// and sleeps, so tests drive it with a clock of their own.
///
/// A take bigger than the burst is granted once the bucket is full and
/// leaves a debt (negative tokens) that later takes wait out, so one
/// 400 KB item is never refused and the long-run rate still holds.
public struct TokenBucket: Sendable, Equatable {
    public private(set) var rate: Double
    private var tokens: Double
    private var last: Double

    /// - Parameter full: start with a second's burst (true) or empty.
    public init(rate: Double, now: Double, full: Bool = true) {
        precondition(rate > 0)
        self.rate = rate
        tokens = full ? rate : 0
        last = now
    }

    /// Takes `units` and returns 0, or returns how many seconds to wait
    /// before asking again (nothing taken).
    public mutating func take(_ units: Double, now: Double) -> Double {
        refill(now)
        let needed = min(units, rate)
        // A hair of slack: a wait computed from the shortfall must end in
        // a grant, whatever the rounding of `tokens + wait × rate`.
        if tokens >= needed - 1e-9 * max(1, needed) {
            tokens -= units
            return 0
        }
        return (needed - tokens) / rate
    }

    /// A new rate from `now` on; the tokens already earned stay, up to the
    /// new burst.
    public mutating func setRate(_ newRate: Double, now: Double) {
        precondition(newRate > 0)
        refill(now)
        rate = newRate
        tokens = min(tokens, rate)
    }

    private mutating func refill(_ now: Double) {
        tokens = min(rate, tokens + max(0, now - last) * rate)
        last = max(last, now)
    }
}
