import AWSClient
import Dispatch
import Synchronization
import XCTest

/// A clock that only moves when the driver sleeps, and a random source that
/// replays fixed draws (repeating the last one).
private final class FakeTime: Sendable {
    private struct State {
        var now = 100.0
        var sleeps: [Double] = []
        var draws: [Double]
        var next = 0
        var sleepsBeforeInterrupt: Int?
    }

    private let state: Mutex<State>

    init(draws: [Double] = [0.5], sleepsBeforeInterrupt: Int? = nil) {
        state = Mutex(State(draws: draws, sleepsBeforeInterrupt: sleepsBeforeInterrupt))
    }

    var sleeps: [Double] { state.withLock { $0.sleeps } }

    var environment: RetryEnvironment {
        RetryEnvironment(
            now: { self.state.withLock { $0.now } },
            sleep: { seconds in
                self.state.withLock { state in
                    if let left = state.sleepsBeforeInterrupt {
                        if left == 0 { return false }
                        state.sleepsBeforeInterrupt = left - 1
                    }
                    state.sleeps.append(seconds)
                    state.now += seconds
                    return true
                }
            },
            random: {
                self.state.withLock { state in
                    let draw = state.draws[min(state.next, state.draws.count - 1)]
                    state.next += 1
                    return draw
                }
            })
    }
}

private struct FakeError: Error, RetryClassifiable, Equatable {
    var retryClass: RetryClass
    var isTimeout = false
    var attempt = 0
}

private final class EventLog: Sendable {
    private let events = Mutex<[RetryEvent]>([])
    func record(_ event: RetryEvent) { events.withLock { $0.append(event) } }
    var all: [RetryEvent] { events.withLock { $0 } }
}

final class RetryPolicyTests: XCTestCase {
    private func assertDelays(_ actual: [Double], _ expected: [Double], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(actual.count, expected.count, "\(actual)", file: file, line: line)
        for (a, e) in zip(actual, expected) {
            XCTAssertEqual(a, e, accuracy: 1e-9, "\(actual)", file: file, line: line)
        }
    }

    /// Runs `policy` over a body that fails with `failures` in order, then
    /// returns "done". Returns the result and the number of attempts made.
    private func run(
        _ policy: RetryPolicy, failing failures: [FakeError]
    ) -> (result: Result<String, FakeError>, attempts: Int) {
        var attempts = 0
        let result = Result { () throws(FakeError) -> String in
            try policy.execute(operation: "Test") { () throws(FakeError) -> String in
                attempts += 1
                if attempts <= failures.count {
                    var failure = failures[attempts - 1]
                    failure.attempt = attempts
                    throw failure
                }
                return "done"
            }
        }
        return (result, attempts)
    }

    // MARK: - Backoff

    func testBackoff_ceilingDoublesFromTheBase_untilTheCap() {
        let backoff = Backoff()
        XCTAssertEqual((0..<10).map { backoff.ceiling(retry: $0, for: .transient) },
                       [0.025, 0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 6.4, 12.8])
        XCTAssertEqual(backoff.ceiling(retry: 10, for: .transient), 20)
        XCTAssertEqual((0..<8).map { backoff.ceiling(retry: $0, for: .throttling) },
                       [0.5, 1, 2, 4, 8, 16, 20, 20])
        XCTAssertEqual(backoff.ceiling(retry: 3, for: .terminal), 0)
    }

    func testBackoff_hugeRetryNumbers_stayAtTheCap() {
        let backoff = Backoff(cap: 7)
        XCTAssertEqual(backoff.ceiling(retry: 63, for: .transient), 7)
        XCTAssertEqual(backoff.ceiling(retry: Int.max, for: .throttling), 7)
    }

    func testBackoff_delayIsTheDrawTimesTheCeiling() {
        let backoff = Backoff()
        XCTAssertEqual(backoff.delay(retry: 2, for: .transient, unit: 0), 0)
        XCTAssertEqual(backoff.delay(retry: 2, for: .transient, unit: 0.25), 0.025)
        XCTAssertEqual(backoff.delay(retry: 1, for: .throttling, unit: 0.5), 0.5)
    }

    // MARK: - Driver

    func testExecute_transientFailures_sleepTheFullJitterSequence_thenSucceed() {
        let time = FakeTime(draws: [0.5, 0.25, 1.0])
        let policy = RetryPolicy(environment: time.environment)
        let (result, attempts) = run(policy, failing: Array(repeating: FakeError(retryClass: .transient), count: 3))

        XCTAssertEqual(try result.get(), "done")
        XCTAssertEqual(attempts, 4)
        assertDelays(time.sleeps, [0.5 * 0.025, 0.25 * 0.05, 1.0 * 0.1])
    }

    func testExecute_throttling_isRetriedOnTheThrottlingBase() {
        let time = FakeTime(draws: [0.5])
        let policy = RetryPolicy(environment: time.environment)
        let (result, attempts) = run(policy, failing: [FakeError(retryClass: .throttling), FakeError(retryClass: .throttling)])

        XCTAssertEqual(try result.get(), "done")
        XCTAssertEqual(attempts, 3)
        assertDelays(time.sleeps, [0.25, 0.5])
    }

    func testExecute_terminalError_isThrownWithoutRetry() {
        let time = FakeTime()
        let log = EventLog()
        let policy = RetryPolicy(environment: time.environment, onEvent: log.record)
        let (result, attempts) = run(policy, failing: [FakeError(retryClass: .terminal)])

        XCTAssertEqual(result, .failure(FakeError(retryClass: .terminal, attempt: 1)))
        XCTAssertEqual(attempts, 1)
        XCTAssertEqual(time.sleeps, [])
        XCTAssertEqual(log.all.map(\.outcome), [.gaveUp(.terminal)])
    }

    func testExecute_unclassifiedError_isTerminal() {
        struct Plain: Error {}
        let time = FakeTime()
        var attempts = 0
        XCTAssertThrowsError(try RetryPolicy(environment: time.environment).execute(operation: "Test") {
            attempts += 1
            throw Plain()
        })
        XCTAssertEqual(attempts, 1)
    }

    func testExecute_afterMaxAttempts_throwsTheLastError() {
        let time = FakeTime(draws: [0.5])
        let policy = RetryPolicy(maxAttempts: 4, environment: time.environment)
        let (result, attempts) = run(policy, failing: Array(repeating: FakeError(retryClass: .transient), count: 10))

        XCTAssertEqual(result, .failure(FakeError(retryClass: .transient, attempt: 4)))
        XCTAssertEqual(attempts, 4)
        XCTAssertEqual(time.sleeps.count, 3)
    }

    func testExecute_maxAttemptsOne_disablesRetries() {
        let policy = RetryPolicy(maxAttempts: 1, environment: FakeTime().environment)
        XCTAssertEqual(run(policy, failing: [FakeError(retryClass: .throttling)]).attempts, 1)
    }

    func testExecute_longRuns_neverSleepBeyondTheCap() {
        let time = FakeTime(draws: [0.999_999])
        let policy = RetryPolicy(maxAttempts: 30, budget: nil, environment: time.environment)
        _ = run(policy, failing: Array(repeating: FakeError(retryClass: .throttling), count: 40))

        XCTAssertEqual(time.sleeps.count, 29)
        XCTAssertLessThanOrEqual(time.sleeps.max() ?? 0, 20)
        XCTAssertEqual(time.sleeps.last ?? 0, 20 * 0.999_999, accuracy: 1e-9)
    }

    func testExecute_nextDelayPastMaxElapsed_givesUp() {
        let time = FakeTime(draws: [1.0])
        let log = EventLog()
        // Throttling ceilings 0.5, 1, 2: after sleeping 0.5 + 1, a further 2 s would pass 3 s.
        let policy = RetryPolicy(maxElapsed: 3, environment: time.environment, onEvent: log.record)
        let (result, attempts) = run(policy, failing: Array(repeating: FakeError(retryClass: .throttling), count: 10))

        XCTAssertEqual(result, .failure(FakeError(retryClass: .throttling, attempt: 3)))
        XCTAssertEqual(attempts, 3)
        assertDelays(time.sleeps, [0.5, 1])
        XCTAssertEqual(log.all.last?.outcome, .gaveUp(.deadlineExceeded))
    }

    func testExecute_interruptedSleep_throwsTheLastErrorAtOnce() {
        let time = FakeTime(sleepsBeforeInterrupt: 1)
        let log = EventLog()
        let policy = RetryPolicy(environment: time.environment, onEvent: log.record)
        let (result, attempts) = run(policy, failing: Array(repeating: FakeError(retryClass: .transient), count: 10))

        XCTAssertEqual(result, .failure(FakeError(retryClass: .transient, attempt: 2)))
        XCTAssertEqual(attempts, 2)
        XCTAssertEqual(log.all.last?.outcome, .gaveUp(.interrupted))
    }

    func testExecute_nonThrowingBody_needsNoTry() {
        let policy = RetryPolicy(environment: FakeTime().environment)
        XCTAssertEqual(policy.execute(operation: "Pure") { 42 }, 42)
    }

    func testExecute_eventsAndCounters_describeEachAttempt() {
        let time = FakeTime(draws: [0.5])
        let log = EventLog()
        let counters = RetryCounters()
        let policy = RetryPolicy(environment: time.environment, onEvent: { log.record($0); counters.record($0) })
        _ = run(policy, failing: [FakeError(retryClass: .throttling), FakeError(retryClass: .transient)])
        _ = run(policy, failing: [FakeError(retryClass: .terminal)])

        XCTAssertEqual(log.all.map(\.outcome), [
            .retrying(delay: 0.25), .retrying(delay: 0.025), .recovered, .gaveUp(.terminal),
        ])
        XCTAssertEqual(log.all.map(\.attempt), [1, 2, 3, 1])
        XCTAssertEqual(log.all.map(\.retryClass), [.throttling, .transient, nil, .terminal])
        XCTAssertEqual(log.all.first?.operation, "Test")
        XCTAssertNotNil(log.all.first?.errorDescription)
        let snapshot = counters.snapshot
        XCTAssertEqual(snapshot.throttlingRetries, 1)
        XCTAssertEqual(snapshot.transientRetries, 1)
        XCTAssertEqual(snapshot.retries, 2)
        XCTAssertEqual(snapshot.recovered, 1)
        XCTAssertEqual(snapshot.gaveUp, [.terminal: 1])
    }

    // MARK: - Budget

    func testBudget_whenEmpty_stopsRetries() {
        let budget = RetryBudget(capacity: 12)
        let log = EventLog()
        let policy = RetryPolicy(budget: budget, environment: FakeTime().environment, onEvent: log.record)
        let (result, attempts) = run(policy, failing: Array(repeating: FakeError(retryClass: .transient), count: 10))

        // 12 tokens pay for two retries of 5; the third failure is final.
        XCTAssertEqual(result, .failure(FakeError(retryClass: .transient, attempt: 3)))
        XCTAssertEqual(attempts, 3)
        XCTAssertEqual(budget.available, 2)
        XCTAssertEqual(log.all.last?.outcome, .gaveUp(.budgetExhausted))
    }

    func testBudget_timeoutRetriesCostTen() {
        let budget = RetryBudget()
        let policy = RetryPolicy(budget: budget, environment: FakeTime().environment)
        _ = run(policy, failing: [FakeError(retryClass: .transient, isTimeout: true), FakeError(retryClass: .transient)])
        // -10, -5, then the success returns the last retry's 5.
        XCTAssertEqual(budget.available, 490)
    }

    func testBudget_successRefundsOne_upToCapacity() {
        let budget = RetryBudget(capacity: 20)
        XCTAssertEqual(budget.acquireRetry(afterTimeout: false), 5)
        XCTAssertEqual(budget.acquireRetry(afterTimeout: true), 10)
        XCTAssertEqual(budget.available, 5)

        let policy = RetryPolicy(budget: budget, environment: FakeTime().environment)
        for _ in 0..<3 { XCTAssertEqual(run(policy, failing: []).attempts, 1) }
        XCTAssertEqual(budget.available, 8)
        for _ in 0..<30 { _ = run(policy, failing: []) }
        XCTAssertEqual(budget.available, 20)
    }

    func testBudget_afterEmptying_refillsWithSuccesses() {
        let budget = RetryBudget(capacity: 5)
        let policy = RetryPolicy(budget: budget, environment: FakeTime().environment)
        XCTAssertEqual(run(policy, failing: [FakeError(retryClass: .transient), FakeError(retryClass: .transient)]).attempts, 2)
        XCTAssertEqual(budget.available, 0)
        for _ in 0..<5 { _ = run(policy, failing: []) }
        XCTAssertEqual(run(policy, failing: [FakeError(retryClass: .transient)]).attempts, 2)
    }

    func testBudget_isSharedByCopiesAndThreads() {
        let budgets = RetryBudgets()
        let endpoint = "https://dynamodb.eu-west-1.amazonaws.com"
        XCTAssertTrue(budgets.budget(for: endpoint) === budgets.budget(for: endpoint))
        XCTAssertFalse(budgets.budget(for: endpoint) === budgets.budget(for: "http://127.0.0.1:8000"))

        let budget = budgets.budget(for: endpoint)
        let granted = Mutex(0)
        DispatchQueue.concurrentPerform(iterations: 200) { _ in
            if budget.acquireRetry(afterTimeout: false) != nil { granted.withLock { $0 += 1 } }
        }
        XCTAssertEqual(granted.withLock { $0 }, 100)
        XCTAssertEqual(budget.available, 0)
    }

    // MARK: - Classification

    private let classifier = RetryClassifier.standard

    func testClassify_throttlingCodes() {
        for code in [
            "ThrottlingException", "ProvisionedThroughputExceededException", "RequestLimitExceeded",
            "Throttling", "ThrottledException", "TooManyRequestsException", "SlowDown",
            "RequestThrottled", "LimitExceededException",
        ] {
            XCTAssertEqual(classifier.classify(status: 400, code: code, httpErrorKind: nil), .throttling, code)
        }
        XCTAssertEqual(classifier.classify(status: 503, code: "SlowDown", httpErrorKind: nil), .throttling)
        XCTAssertEqual(classifier.classify(status: 429, code: nil, httpErrorKind: nil), .throttling)
        XCTAssertEqual(classifier.classify(status: 429, code: "SomethingNew", httpErrorKind: nil), .throttling)
    }

    func testClassify_transientCodesAndStatuses() {
        for code in ["InternalServerError", "ServiceUnavailable", "InternalFailure", "TransactionInProgressException"] {
            XCTAssertEqual(classifier.classify(status: 400, code: code, httpErrorKind: nil), .transient, code)
        }
        for status in [500, 502, 503, 504] {
            XCTAssertEqual(classifier.classify(status: status, code: nil, httpErrorKind: nil), .transient, "\(status)")
            XCTAssertEqual(classifier.classify(status: status, code: "Unknown", httpErrorKind: nil), .transient, "\(status)")
        }
    }

    func testClassify_terminalCodesAndStatuses() {
        for code in [
            "ValidationException", "AccessDeniedException", "ResourceNotFoundException",
            "UnrecognizedClientException", "InvalidSignatureException", "ExpiredIteratorException",
            "TrimmedDataAccessException", "ConditionalCheckFailedException", "SomethingNobodyListed",
        ] {
            XCTAssertEqual(classifier.classify(status: 400, code: code, httpErrorKind: nil), .terminal, code)
        }
        for status in [400, 401, 403, 404, 413, 501, 505] {
            XCTAssertEqual(classifier.classify(status: status, code: nil, httpErrorKind: nil), .terminal, "\(status)")
        }
        XCTAssertEqual(classifier.classify(status: nil, code: nil, httpErrorKind: nil), .terminal)
    }

    func testClassify_knownTerminalCode_winsOverA5xxStatus() {
        // moto answers iterator and trimming errors with status 500.
        XCTAssertEqual(classifier.classify(status: 500, code: "ExpiredIteratorException", httpErrorKind: nil), .terminal)
        XCTAssertEqual(classifier.classify(status: 500, code: "TrimmedDataAccessException", httpErrorKind: nil), .terminal)
    }

    func testClassify_codesWithNamespaceOrSuffix_areRecognized() {
        XCTAssertEqual(classifier.classify(
            status: 400, code: "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
            httpErrorKind: nil), .throttling)
        XCTAssertEqual(classifier.classify(status: 400, code: "ThrottlingException:http://internal.amazon.com/", httpErrorKind: nil), .throttling)
        XCTAssertEqual(classifier.classify(status: 500, code: "com.amazon.coral.validate#ValidationException", httpErrorKind: nil), .terminal)
    }

    func testClassify_transportErrors() {
        let expected: [(HTTPError.Kind, RetryClass)] = [
            (.connect, .transient), (.timeout, .transient), (.connectionReset, .transient),
            (.tls, .terminal), (.invalidURL, .terminal), (.other, .transient),
        ]
        for (kind, retryClass) in expected {
            // The transport error decides even if a status or code were passed along.
            XCTAssertEqual(classifier.classify(status: 400, code: "ValidationException", httpErrorKind: kind), retryClass, "\(kind)")
            let error = HTTPError(kind: kind, host: "127.0.0.1", operation: "GetRecords", detail: "test")
            XCTAssertEqual(error.retryClass, retryClass, "\(kind)")
            XCTAssertEqual(error.isTimeout, kind == .timeout, "\(kind)")
        }
    }

    func testClassifying_movesACodeToAnotherClass() {
        let custom = classifier
            .classifying("BusyNodeException", as: .throttling)
            .classifying("ThrottlingException", as: .terminal)
        XCTAssertEqual(custom.classify(status: 400, code: "BusyNodeException", httpErrorKind: nil), .throttling)
        XCTAssertEqual(custom.classify(status: 400, code: "ThrottlingException", httpErrorKind: nil), .terminal)
        XCTAssertFalse(custom.throttlingCodes.contains("ThrottlingException"))
        XCTAssertEqual(classifier.classify(status: 400, code: "BusyNodeException", httpErrorKind: nil), .terminal)
    }

    func testExecute_retriesHTTPErrorsByKind() {
        let time = FakeTime()
        let budget = RetryBudget()
        let policy = RetryPolicy(budget: budget, environment: time.environment)
        var attempts = 0
        let value = try? policy.execute(operation: "GetRecords") { () throws(HTTPError) -> Int in
            attempts += 1
            if attempts == 1 { throw HTTPError(kind: .timeout, host: "h", operation: "GetRecords", detail: "timed out") }
            if attempts == 2 { throw HTTPError(kind: .connectionReset, host: "h", operation: "GetRecords", detail: "reset") }
            return attempts
        }
        XCTAssertEqual(value, 3)
        XCTAssertEqual(budget.available, 500 - 10 - 5 + 5)

        attempts = 0
        XCTAssertThrowsError(try policy.execute(operation: "GetRecords") { () throws(HTTPError) -> Int in
            attempts += 1
            throw HTTPError(kind: .tls, host: "h", operation: "GetRecords", detail: "bad certificate")
        })
        XCTAssertEqual(attempts, 1)
    }
}
