import DynamoModel

/// A fault to inject into the stand-in's answers: what happens, to which
/// operations, and when. Install with ``StreamStandIn/inject(_:)``.
///
///     standIn.inject(.throttling(on: [.getRecords], times: 2))
///     standIn.inject(.internalError(on: [], probability: 0.1, seed: 7))     // any operation
///     standIn.inject(.unprocessedItems(.everyOther, times: 1))
///     standIn.inject(.rejectItems(.hasAttribute("poison")))
///     standIn.inject(StandInFault(.resetConnection, on: [.batchWriteItem], trigger: .times(1), skipFirst: 3))
///
/// Rules are checked in the order they were installed. Of the faults that
/// answer instead of the operation (errors, closes, resets, expired
/// iterators) the first that fires wins; delays add up and postpone
/// whatever answer goes out (the operation is applied first, its answer is
/// late, as when a client times out on a write that happened).
public struct StandInFault: Sendable {
    /// What the fault does.
    public enum Action: Sendable {
        /// HTTP 400 with a throttling code: `ProvisionedThroughputExceededException`,
        /// `ThrottlingException`, `LimitExceededException`, ...
        case throttle(code: String)
        /// HTTP 500 `InternalServerError`.
        case internalError
        /// Any error answer.
        case serviceError(status: Int, code: String, message: String)
        /// Close the connection without answering (the client sees an empty reply).
        case closeConnection
        /// Reset the connection without answering (the client sees ECONNRESET).
        case resetConnection
        /// Answer late by this many seconds.
        case delay(seconds: Double)
        /// GetRecords answers `ExpiredIteratorException`, whatever the iterator's age.
        case expiredIterator
        /// BatchWriteItem applies only part of the request and returns the
        /// rest as `UnprocessedItems`.
        case unprocessedItems(StandInUnprocessedSelection)
        /// PutItem, UpdateItem and BatchWriteItem refuse a request that holds
        /// a matching item with a `ValidationException` (a terminal error:
        /// the item belongs in a dead-letter file).
        case rejectItems(StandInItemPredicate)
    }

    /// When a rule fires, counted over the requests it applies to.
    public enum Trigger: Sendable {
        case always
        /// The first `n` times (after `skipFirst`), then never.
        case times(Int)
        /// Each time with probability `p`, drawn from a generator seeded with
        /// `seed`, so a run replays exactly.
        case probability(Double, seed: UInt64)
    }

    public var action: Action
    /// The operations the rule applies to; empty means every operation.
    /// Content faults apply only where they make sense (GetRecords for an
    /// expired iterator, BatchWriteItem for unprocessed items).
    public var operations: Set<StandInOperation>
    public var trigger: Trigger
    /// Requests the rule lets through before its trigger counts.
    public var skipFirst: Int

    public init(_ action: Action, on operations: Set<StandInOperation> = [], trigger: Trigger = .always, skipFirst: Int = 0) {
        self.action = action
        self.operations = operations
        self.trigger = trigger
        self.skipFirst = skipFirst
    }

    // MARK: - Shorthands

    /// Throttles the operations `times` times (HTTP 400).
    public static func throttling(
        on operations: Set<StandInOperation> = [], code: String = "ProvisionedThroughputExceededException",
        times: Int, skipFirst: Int = 0
    ) -> StandInFault {
        StandInFault(.throttle(code: code), on: operations, trigger: .times(times), skipFirst: skipFirst)
    }

    /// Throttles the operations with probability `p`.
    public static func throttling(
        on operations: Set<StandInOperation> = [], code: String = "ProvisionedThroughputExceededException",
        probability p: Double, seed: UInt64
    ) -> StandInFault {
        StandInFault(.throttle(code: code), on: operations, trigger: .probability(p, seed: seed))
    }

    /// Answers HTTP 500 `InternalServerError` `times` times.
    public static func internalError(on operations: Set<StandInOperation> = [], times: Int, skipFirst: Int = 0) -> StandInFault {
        StandInFault(.internalError, on: operations, trigger: .times(times), skipFirst: skipFirst)
    }

    /// Answers HTTP 500 `InternalServerError` with probability `p`.
    public static func internalError(on operations: Set<StandInOperation> = [], probability p: Double, seed: UInt64) -> StandInFault {
        StandInFault(.internalError, on: operations, trigger: .probability(p, seed: seed))
    }

    /// Returns part of BatchWriteItem requests unapplied, `times` times.
    public static func unprocessedItems(_ selection: StandInUnprocessedSelection, times: Int) -> StandInFault {
        StandInFault(.unprocessedItems(selection), on: [.batchWriteItem], trigger: .times(times))
    }

    /// Refuses writes of matching items for as long as the rule is installed.
    public static func rejectItems(_ predicate: StandInItemPredicate) -> StandInFault {
        StandInFault(.rejectItems(predicate), on: [.putItem, .updateItem, .batchWriteItem])
    }

    /// Answers GetRecords with `ExpiredIteratorException` `times` times.
    public static func expiredIterator(times: Int, skipFirst: Int = 0) -> StandInFault {
        StandInFault(.expiredIterator, on: [.getRecords], trigger: .times(times), skipFirst: skipFirst)
    }
}

/// Which writes of a BatchWriteItem come back as `UnprocessedItems`,
/// counted by position in the request (0-based, across tables).
public enum StandInUnprocessedSelection: Sendable, Hashable {
    /// None is applied.
    case all
    /// Positions 1, 3, 5, …: the second, fourth, … write.
    case everyOther
    /// The first `n` writes.
    case first(Int)
    /// The writes at these positions.
    case positions(Set<Int>)

    func contains(_ position: Int) -> Bool {
        switch self {
        case .all: true
        case .everyOther: position % 2 == 1
        case .first(let n): position < n
        case .positions(let set): set.contains(position)
        }
    }
}

/// Which items a ``StandInFault/Action/rejectItems(_:)`` rule refuses.
public enum StandInItemPredicate: Sendable {
    /// The item has a top-level attribute with this name.
    case hasAttribute(String)
    /// The item's DynamoDB JSON is longer than this many bytes.
    case largerThan(bytes: Int)
    /// Any test on the decoded item.
    case matching(@Sendable (Item) -> Bool)

    func matches(_ item: JSONView) -> Bool {
        switch self {
        case .hasAttribute(let name): return item[name] != nil
        case .largerThan(let bytes): return item.rawRange.count > bytes
        case .matching(let test): return (try? item.readItem()).map(test) ?? false
        }
    }
}

/// Names an installed fault rule, to remove it or ask how often it fired.
public struct StandInFaultID: Sendable, Hashable {
    let value: Int
}
