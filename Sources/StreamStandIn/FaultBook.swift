/// The installed fault rules and their counters; owned by the stand-in's
/// fault lock.
struct FaultBook {
    struct Rule {
        let id: Int
        let fault: StandInFault
        var seen = 0
        var fired = 0
        var random: SplitMix64?

        init(id: Int, fault: StandInFault) {
            self.id = id
            self.fault = fault
            if case .probability(_, let seed) = fault.trigger { random = SplitMix64(seed: seed) }
        }

        func applies(to operation: StandInOperation) -> Bool {
            fault.operations.isEmpty || fault.operations.contains(operation)
        }

        /// Counts one request the rule applies to and says whether it fires.
        mutating func fires() -> Bool {
            seen += 1
            guard seen > fault.skipFirst else { return false }
            let fire: Bool
            switch fault.trigger {
            case .always: fire = true
            case .times(let n): fire = fired < n
            case .probability(let p, _): fire = random!.nextUnit() < p
            }
            if fire { fired += 1 }
            return fire
        }
    }

    /// What the request-level rules decided for one request.
    struct Decision {
        enum Answer {
            case error(ServiceError)
            case close
            case reset
        }

        var answer: Answer?
        var delay: Double = 0
    }

    private(set) var rules: [Rule] = []
    private var nextID = 1

    mutating func add(_ fault: StandInFault) -> StandInFaultID {
        defer { nextID += 1 }
        rules.append(Rule(id: nextID, fault: fault))
        return StandInFaultID(value: nextID)
    }

    mutating func remove(_ id: StandInFaultID) {
        rules.removeAll { $0.id == id.value }
    }

    mutating func removeAll() {
        rules.removeAll()
    }

    func firedCount(_ id: StandInFaultID) -> Int {
        rules.first { $0.id == id.value }?.fired ?? 0
    }

    /// Runs the rules that answer instead of the operation (or delay it).
    mutating func decide(for operation: StandInOperation) -> Decision {
        var decision = Decision()
        for index in rules.indices where rules[index].applies(to: operation) {
            let answer: Decision.Answer?
            var delay = 0.0
            switch rules[index].fault.action {
            case .throttle(let code):
                let message = code == "ProvisionedThroughputExceededException"
                    ? "The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API."
                    : "Rate exceeded"
                answer = .error(ServiceError(code, message))
            case .internalError:
                answer = .error(.internalError())
            case .serviceError(let status, let code, let message):
                answer = .error(ServiceError(status: status, code, message))
            case .closeConnection:
                answer = .close
            case .resetConnection:
                answer = .reset
            case .delay(let seconds):
                answer = nil
                delay = seconds
            case .expiredIterator:
                guard operation == .getRecords else { continue }
                answer = .error(ServiceError("ExpiredIteratorException", "Iterator expired (injected)"))
            case .unprocessedItems, .rejectItems:
                continue
            }
            // A rule whose kind of answer is already decided is not counted.
            if answer != nil, decision.answer != nil { continue }
            guard rules[index].fires() else { continue }
            if let answer {
                decision.answer = answer
            } else {
                decision.delay += delay
            }
        }
        return decision
    }

    /// The unprocessed-items selection for this BatchWriteItem, if a rule fires.
    mutating func unprocessedSelection() -> StandInUnprocessedSelection? {
        for index in rules.indices where rules[index].applies(to: .batchWriteItem) {
            guard case .unprocessedItems(let selection) = rules[index].fault.action else { continue }
            if rules[index].fires() { return selection }
        }
        return nil
    }

    /// The reject rules that apply to `operation`, to test items against
    /// outside the lock.
    func rejectRules(for operation: StandInOperation) -> [(id: Int, predicate: StandInItemPredicate)] {
        rules.compactMap { rule in
            guard rule.applies(to: operation), case .rejectItems(let predicate) = rule.fault.action else { return nil }
            return (rule.id, predicate)
        }
    }

    /// Counts a request in which rule `id` matched an item; true if it fires.
    mutating func fireReject(_ id: Int) -> Bool {
        guard let index = rules.firstIndex(where: { $0.id == id }) else { return false }
        return rules[index].fires()
    }
}
