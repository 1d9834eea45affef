import Foundation
import Synchronization

// MARK: - Classification

/// How a failed call is treated. Every failure is classified once, where it
/// is first understood (transport or protocol layer), and the retry driver
/// only reads the class.
public enum RetryClass: String, Sendable, Equatable, CaseIterable {
    /// The service asked for less load: retry, on the longer throttling backoff.
    case throttling
    /// The same call may well succeed next time (5xx, reset, timeout): retry.
    case transient
    /// The same call will fail the same way (validation, access denied, not
    /// found, expired iterator): do not retry.
    case terminal
}

/// An error that knows its ``RetryClass``. Errors that do not adopt this are
/// treated as `.terminal` by ``RetryPolicy``: retrying what nobody
/// classified would hide bugs behind backoff.
public protocol RetryClassifiable {
    var retryClass: RetryClass { get }
    /// True for timeouts, which cost more retry budget (see ``RetryBudget``).
    var isTimeout: Bool { get }
}

extension RetryClassifiable {
    public var isTimeout: Bool { false }
}

extension HTTPError: RetryClassifiable {
    public var retryClass: RetryClass { RetryClassifier.classify(httpErrorKind: kind) }
    public var isTimeout: Bool { kind == .timeout }
}

/// Maps what a failed call produced (a transport error, or an HTTP status
/// and an AWS error code) to a ``RetryClass``.
///
/// Precedence: a transport error decides alone (there was no response);
/// then a known error code (so `ExpiredIteratorException` stays terminal
/// even when moto sends it with status 500, and `SlowDown` is throttling
/// although S3 sends it with 503); then the status (429 throttling; 500, 502,
/// 503, 504 transient, as in the AWS SDKs' standard mode); anything else is
/// terminal.
///
/// The code sets are public, so a caller can extend them:
/// `RetryClassifier.standard.classifying("MyBusyException", as: .throttling)`.
public struct RetryClassifier: Sendable, Equatable {
    public var throttlingCodes: Set<String>
    public var transientCodes: Set<String>
    /// Codes that stay terminal whatever the status says.
    public var terminalCodes: Set<String>

    /// The AWS SDKs' throttling codes, plus DynamoDB Streams'
    /// `LimitExceededException` (DescribeStream over 10 calls per second).
    public static let defaultThrottlingCodes: Set<String> = [
        "ThrottlingException", "ProvisionedThroughputExceededException", "RequestLimitExceeded",
        "Throttling", "ThrottledException", "TooManyRequestsException", "SlowDown",
        "RequestThrottled", "RequestThrottledException", "LimitExceededException",
        "BandwidthLimitExceeded", "PriorRequestNotComplete", "EC2ThrottledException",
    ]

    /// Server-side failures worth another try whatever their status.
    public static let defaultTransientCodes: Set<String> = [
        "InternalServerError", "ServiceUnavailable", "InternalFailure",
        "TransactionInProgressException", "RequestTimeout", "RequestTimeoutException",
    ]

    /// Listed so that a 5xx status (as moto sends for iterator errors) does
    /// not turn them transient. Unknown codes with a 4xx status are terminal
    /// without being listed.
    public static let defaultTerminalCodes: Set<String> = [
        "ValidationException", "AccessDeniedException", "ResourceNotFoundException",
        "UnrecognizedClientException", "InvalidSignatureException", "MissingAuthenticationTokenException",
        "IncompleteSignatureException", "ExpiredTokenException", "ExpiredIteratorException",
        "TrimmedDataAccessException", "ConditionalCheckFailedException", "ResourceInUseException",
        "ItemCollectionSizeLimitExceededException", "SerializationException",
        "TransactionCanceledException", "NoSuchKey", "NoSuchBucket",
    ]

    /// The defaults above.
    public static let standard = RetryClassifier()

    public init(
        throttlingCodes: Set<String> = defaultThrottlingCodes,
        transientCodes: Set<String> = defaultTransientCodes,
        terminalCodes: Set<String> = defaultTerminalCodes
    ) {
        self.throttlingCodes = throttlingCodes
        self.transientCodes = transientCodes
        self.terminalCodes = terminalCodes
    }

    /// A copy in which `code` belongs to `retryClass` only.
    public func classifying(_ code: String, as retryClass: RetryClass) -> RetryClassifier {
        var copy = self
        copy.throttlingCodes.remove(code)
        copy.transientCodes.remove(code)
        copy.terminalCodes.remove(code)
        switch retryClass {
        case .throttling: copy.throttlingCodes.insert(code)
        case .transient: copy.transientCodes.insert(code)
        case .terminal: copy.terminalCodes.insert(code)
        }
        return copy
    }

    /// - Parameters:
    ///   - status: the HTTP status, if a response arrived.
    ///   - code: the AWS error code, if the body or `x-amzn-ErrorType` named
    ///     one; a namespace prefix (`com.amazonaws.dynamodb.v20120810#`) and
    ///     a `:`-suffix are ignored.
    ///   - httpErrorKind: set when the request got no response at all.
    public func classify(status: Int?, code: String?, httpErrorKind: HTTPError.Kind?) -> RetryClass {
        if let httpErrorKind { return Self.classify(httpErrorKind: httpErrorKind) }
        if let code {
            let name = Self.bareCode(code)
            if throttlingCodes.contains(name) { return .throttling }
            if transientCodes.contains(name) { return .transient }
            if terminalCodes.contains(name) { return .terminal }
        }
        switch status {
        case 429: return .throttling
        case 500, 502, 503, 504: return .transient
        default: return .terminal
        }
    }

    /// Transport failures: connect, timeout and reset are transient (another
    /// attempt, maybe on a fresh connection, may work); TLS and URL errors
    /// are configuration problems and terminal; anything else is transient.
    public static func classify(httpErrorKind: HTTPError.Kind) -> RetryClass {
        switch httpErrorKind {
        case .connect, .timeout, .connectionReset, .other: .transient
        case .tls, .invalidURL: .terminal
        // Sending again would be refused again: the caller decides.
        case .withheld: .terminal
        }
    }

    /// "com.amazonaws.dynamodb.v20120810#ThrottlingException" → "ThrottlingException";
    /// "SlowDown:http://internal.amazon.com/" → "SlowDown".
    static func bareCode(_ code: String) -> String {
        var name = Substring(code)
        if let hash = name.lastIndex(of: "#") { name = name[name.index(after: hash)...] }
        if let colon = name.firstIndex(of: ":") { name = name[..<colon] }
        return String(name)
    }
}

// MARK: - Backoff

/// Full-jitter exponential backoff ("Exponential Backoff And Jitter", AWS
/// Architecture Blog, 2015), as the AWS SDKs' standard retry mode uses it:
///
///     ceiling(n) = min(cap, base × 2ⁿ)     n = retries already made (0 before the first retry)
///     delay(n)   = u × ceiling(n)          u uniform in [0, 1)
///
/// Defaults:
/// - `transientBase` 25 ms: the DynamoDB SDKs' base. Ceilings 25, 50, 100,
///   200 ms, …, so a blip costs little.
/// - `throttlingBase` 500 ms: the SDKs' throttled base. Throttling means the
///   table or shard is at its limit; retrying within milliseconds only
///   burns more of the limit. Ceilings 0.5, 1, 2, 4, 8, 16, 20 s.
/// - `cap` 20 s: the SDKs' maximum backoff; no single sleep exceeds it.
public struct Backoff: Sendable, Equatable {
    /// Seconds.
    public var transientBase: Double
    /// Seconds.
    public var throttlingBase: Double
    /// Seconds.
    public var cap: Double

    public init(transientBase: Double = 0.025, throttlingBase: Double = 0.5, cap: Double = 20) {
        self.transientBase = transientBase
        self.throttlingBase = throttlingBase
        self.cap = cap
    }

    /// The largest delay before retry number `retry + 1`; 0 for terminal.
    public func ceiling(retry: Int, for retryClass: RetryClass) -> Double {
        let base: Double
        switch retryClass {
        case .transient: base = transientBase
        case .throttling: base = throttlingBase
        case .terminal: return 0
        }
        // 2^62 times any sane base is far past any cap; clamping keeps the shift defined.
        let growth = Double(UInt64(1) << UInt64(min(max(retry, 0), 62)))
        return min(cap, base * growth)
    }

    /// The delay for a draw `unit` in [0, 1) of the random source.
    public func delay(retry: Int, for retryClass: RetryClass, unit: Double) -> Double {
        min(max(unit, 0), 1) * ceiling(retry: retry, for: retryClass)
    }
}

// MARK: - Budget

/// A retry budget: the token bucket of the AWS SDKs' standard retry mode,
/// shared by every call to one endpoint, so that a failing endpoint gets
/// fewer retries instead of a multiple of its normal load.
///
/// - The bucket starts full with `capacity` tokens (default 500).
/// - A retry takes `retryCost` tokens (default 5), or `timeoutRetryCost`
///   (default 10) when the failure was a timeout. With fewer tokens left,
///   the failure is returned without a retry.
/// - A call that succeeds on its first attempt adds `successRefund` tokens
///   (default 1); one that succeeds after retries returns the cost of its
///   last retry. Never beyond `capacity`.
///
/// So an endpoint that fails every call allows 100 retries (50 after
/// timeouts), then only first attempts until successes refill the bucket.
public final class RetryBudget: Sendable {
    public let capacity: Int
    public let retryCost: Int
    public let timeoutRetryCost: Int
    public let successRefund: Int
    private let tokens: Mutex<Int>

    public init(capacity: Int = 500, retryCost: Int = 5, timeoutRetryCost: Int = 10, successRefund: Int = 1) {
        self.capacity = capacity
        self.retryCost = retryCost
        self.timeoutRetryCost = timeoutRetryCost
        self.successRefund = successRefund
        self.tokens = Mutex(capacity)
    }

    /// Tokens left now.
    public var available: Int { tokens.withLock { $0 } }

    /// Takes the tokens for one retry. Returns the amount taken, or nil (and
    /// takes nothing) when too few are left.
    public func acquireRetry(afterTimeout: Bool) -> Int? {
        let cost = afterTimeout ? timeoutRetryCost : retryCost
        return tokens.withLock { tokens in
            guard tokens >= cost else { return nil }
            tokens -= cost
            return cost
        }
    }

    /// Refills after a success; `lastRetryCost` is what the call's last
    /// retry took (nil if it needed no retry).
    public func recordSuccess(lastRetryCost: Int?) {
        let refund = lastRetryCost ?? successRefund
        tokens.withLock { $0 = min(capacity, $0 + refund) }
    }
}

/// One ``RetryBudget`` per endpoint, created on first use.
public final class RetryBudgets: Sendable {
    private let budgets = Mutex<[String: RetryBudget]>([:])
    private let makeBudget: @Sendable () -> RetryBudget

    public init(makeBudget: @escaping @Sendable () -> RetryBudget = { RetryBudget() }) {
        self.makeBudget = makeBudget
    }

    /// The budget for `endpoint` (for example "https://dynamodb.eu-west-1.amazonaws.com").
    public func budget(for endpoint: String) -> RetryBudget {
        budgets.withLock { budgets in
            if let budget = budgets[endpoint] { return budget }
            let budget = makeBudget()
            budgets[endpoint] = budget
            return budget
        }
    }
}

// MARK: - Time and randomness

/// The clock, the sleep and the random source the retry driver uses,
/// injected so tests run exactly and without waiting.
public struct RetryEnvironment: Sendable {
    /// Monotonic seconds; only differences matter.
    public var now: @Sendable () -> Double
    /// Sleeps the given seconds. Returns false if the wait was cut short
    /// (shutdown): the driver then stops retrying and throws the last error.
    public var sleep: @Sendable (Double) -> Bool
    /// A uniform draw in [0, 1).
    public var random: @Sendable () -> Double

    public init(
        now: @escaping @Sendable () -> Double,
        sleep: @escaping @Sendable (Double) -> Bool,
        random: @escaping @Sendable () -> Double
    ) {
        self.now = now
        self.sleep = sleep
        self.random = random
    }

    /// The monotonic clock, an uninterruptible thread sleep and the system
    /// random number generator. A daemon that must stop promptly injects a
    /// sleep that wakes on shutdown instead.
    public static let system = RetryEnvironment(
        now: { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 },
        sleep: { seconds in
            if seconds > 0 { Thread.sleep(forTimeInterval: seconds) }
            return true
        },
        random: { Double.random(in: 0..<1) })
}

// MARK: - Events

/// What the driver decided after one attempt, for logs and metrics.
public struct RetryEvent: Sendable, Equatable {
    public enum Outcome: Sendable, Equatable {
        /// The attempt failed; the next one follows after `delay` seconds.
        case retrying(delay: Double)
        /// The attempt failed and its error is thrown to the caller.
        case gaveUp(GiveUpReason)
        /// The attempt succeeded after earlier attempts had failed.
        case recovered
    }

    public enum GiveUpReason: String, Sendable, Equatable, CaseIterable {
        case terminal
        case attemptsExhausted
        case budgetExhausted
        case deadlineExceeded
        /// The sleep before the next attempt was cut short (shutdown).
        case interrupted
    }

    public var operation: String
    /// 1-based number of the attempt that just ended.
    public var attempt: Int
    /// The failure's class; nil for `.recovered`.
    public var retryClass: RetryClass?
    public var outcome: Outcome
    /// The failure's description (errors keep secrets out of it); nil for `.recovered`.
    public var errorDescription: String?

    public init(operation: String, attempt: Int, retryClass: RetryClass?, outcome: Outcome, errorDescription: String?) {
        self.operation = operation
        self.attempt = attempt
        self.retryClass = retryClass
        self.outcome = outcome
        self.errorDescription = errorDescription
    }
}

/// Counts ``RetryEvent``s for metrics; pass `counters.record` as `onEvent`.
public final class RetryCounters: Sendable {
    public struct Snapshot: Sendable, Equatable {
        public var throttlingRetries = 0
        public var transientRetries = 0
        public var recovered = 0
        public var gaveUp: [RetryEvent.GiveUpReason: Int] = [:]
        public var retries: Int { throttlingRetries + transientRetries }
    }

    private let state = Mutex(Snapshot())

    public init() {}

    public func record(_ event: RetryEvent) {
        state.withLock { counts in
            switch event.outcome {
            case .retrying:
                if event.retryClass == .throttling { counts.throttlingRetries += 1 } else { counts.transientRetries += 1 }
            case .gaveUp(let reason):
                counts.gaveUp[reason, default: 0] += 1
            case .recovered:
                counts.recovered += 1
            }
        }
    }

    public var snapshot: Snapshot { state.withLock { $0 } }
}

// MARK: - Driver

/// Runs a call and retries it by its failure's ``RetryClass``.
///
/// Attempt 1 runs at once. After a failed attempt the driver stops and
/// throws that attempt's error if the failure is terminal, if `maxAttempts`
/// attempts have run, if the next delay would pass `maxElapsed`, or if the
/// ``RetryBudget`` is empty; otherwise it sleeps ``Backoff`` delay(n) and
/// tries again. The body is re-run whole, so it must rebuild anything that
/// goes stale (a SigV4 signature carries its time).
///
/// ```swift
/// let policy = RetryPolicy(budget: budgets.budget(for: endpoint), onEvent: counters.record)
/// let response = try policy.execute(operation: "GetRecords") { try client.getRecords(iterator) }
/// ```
///
/// The struct is cheap to copy; copies share the budget (a class).
public struct RetryPolicy: Sendable {
    /// Attempts in all, the first included; default 10 (the DynamoDB SDKs'
    /// default). 1 disables retries.
    public var maxAttempts: Int
    public var backoff: Backoff
    /// nil: retries are limited only by `maxAttempts` and `maxElapsed`.
    public var budget: RetryBudget?
    /// Seconds from the first attempt after which no retry starts; nil: no limit.
    public var maxElapsed: Double?
    public var environment: RetryEnvironment
    /// Called on the calling thread after every failed attempt, and after a
    /// success that needed retries.
    public var onEvent: (@Sendable (RetryEvent) -> Void)?

    public init(
        maxAttempts: Int = 10, backoff: Backoff = Backoff(), budget: RetryBudget? = RetryBudget(),
        maxElapsed: Double? = nil, environment: RetryEnvironment = .system,
        onEvent: (@Sendable (RetryEvent) -> Void)? = nil
    ) {
        self.maxAttempts = max(1, maxAttempts)
        self.backoff = backoff
        self.budget = budget
        self.maxElapsed = maxElapsed
        self.environment = environment
        self.onEvent = onEvent
    }

    /// Runs `body` until it returns, or throws the error of the last attempt.
    /// - Parameter operation: a short name for events ("BatchWriteItem").
    public func execute<T, E: Error>(operation: String, _ body: () throws(E) -> T) throws(E) -> T {
        let started = maxElapsed == nil ? 0 : environment.now()
        var attempt = 1
        var lastRetryCost: Int?
        while true {
            let error: E
            do {
                let value = try body()
                budget?.recordSuccess(lastRetryCost: lastRetryCost)
                if attempt > 1 {
                    report(operation, attempt, nil, .recovered, nil)
                }
                return value
            } catch let failure {
                error = failure
            }

            let classified = error as? any RetryClassifiable
            let retryClass = classified?.retryClass ?? .terminal
            func giveUp(_ reason: RetryEvent.GiveUpReason) -> E {
                report(operation, attempt, retryClass, .gaveUp(reason), error)
                return error
            }
            if retryClass == .terminal { throw giveUp(.terminal) }
            if attempt >= maxAttempts { throw giveUp(.attemptsExhausted) }
            let delay = backoff.delay(retry: attempt - 1, for: retryClass, unit: environment.random())
            if let maxElapsed, environment.now() - started + delay > maxElapsed {
                throw giveUp(.deadlineExceeded)
            }
            if let budget {
                guard let cost = budget.acquireRetry(afterTimeout: classified?.isTimeout ?? false) else {
                    throw giveUp(.budgetExhausted)
                }
                lastRetryCost = cost
            }
            report(operation, attempt, retryClass, .retrying(delay: delay), error)
            guard environment.sleep(delay) else { throw giveUp(.interrupted) }
            attempt += 1
        }
    }

    private func report(
        _ operation: String, _ attempt: Int, _ retryClass: RetryClass?, _ outcome: RetryEvent.Outcome, _ error: (any Error)?
    ) {
        guard let onEvent else { return }
        onEvent(RetryEvent(
            operation: operation, attempt: attempt, retryClass: retryClass, outcome: outcome,
            errorDescription: error.map { String(describing: $0) }))
    }
}
