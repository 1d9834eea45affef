import DynamoModel

/// The part of DynamoDB's condition expressions a lease table needs:
/// `attribute_exists(p)`, `attribute_not_exists(p)`, `p = :v` and `p <> :v`,
/// joined by `AND`. `p` is a top-level name or a `#placeholder`. Anything
/// else is refused with a ValidationException, never guessed at.
struct StandInCondition {
    enum Term {
        case exists(String, Bool)
        case equals(String, String, Bool)  // attribute, value placeholder, equal (false: <>)
    }

    let terms: [Term]
    /// The `#name` and `:value` placeholders it uses.
    let namePlaceholders: Set<String>
    var valuePlaceholders: Set<String> {
        Set(terms.compactMap { if case .equals(_, let v, _) = $0 { v } else { nil } })
    }

    init(_ text: String, names: [String: String]) throws(ServiceError) {
        var used = Set<String>()
        func name(_ token: Substring) throws(ServiceError) -> String {
            if token.hasPrefix("#") {
                used.insert(String(token))
                guard let resolved = names[String(token)] else {
                    throw ServiceError.validation("Value provided in ExpressionAttributeNames unused or undefined: \(token)")
                }
                return resolved
            }
            return String(token)
        }
        func trimmed(_ s: Substring) -> Substring {
            var t = s
            while t.first == " " { t = t.dropFirst() }
            while t.last == " " { t = t.dropLast() }
            return t
        }
        var terms: [Term] = []
        // Clauses joined by AND (as a word, either case).
        var clauses: [Substring] = []
        var words: [Substring] = []
        for word in text.split(separator: " ", omittingEmptySubsequences: true) {
            if word.uppercased() == "AND" {
                clauses.append(Substring(words.joined(separator: " ")))
                words = []
            } else {
                words.append(word)
            }
        }
        clauses.append(Substring(words.joined(separator: " ")))
        for clause in clauses {
            let c = trimmed(clause)
            if let open = c.firstIndex(of: "("), c.hasSuffix(")") {
                let function = trimmed(c[..<open])
                let argument = trimmed(c[c.index(after: open)..<c.index(before: c.endIndex)])
                switch function {
                case "attribute_exists": terms.append(.exists(try name(argument), true))
                case "attribute_not_exists": terms.append(.exists(try name(argument), false))
                default: throw ServiceError.validation("Invalid ConditionExpression: the stand-in does not know \(function)")
                }
                continue
            }
            let parts = c.split(separator: " ", omittingEmptySubsequences: true)
            guard parts.count == 3, parts[1] == "=" || parts[1] == "<>", parts[2].hasPrefix(":") else {
                throw ServiceError.validation("Invalid ConditionExpression: the stand-in supports only a = :v, a <> :v and attribute_(not_)exists, joined by AND")
            }
            terms.append(.equals(try name(parts[0]), String(parts[2]), parts[1] == "="))
        }
        self.terms = terms
        self.namePlaceholders = used
    }

    /// Whether the condition holds on `item` (nil: no such item).
    func holds(on item: Item?, values: Item) throws(ServiceError) -> Bool {
        for term in terms {
            switch term {
            case .exists(let attribute, let wanted):
                if (item?[attribute] != nil) != wanted { return false }
            case .equals(let attribute, let placeholder, let equal):
                guard let value = values[placeholder] else {
                    throw ServiceError.validation("An expression attribute value used in expression is not defined: \(placeholder)")
                }
                let same = item?[attribute].map { $0.semanticallyEquals(value) } ?? false
                if same != equal { return false }
            }
        }
        return true
    }

    static func failed() -> ServiceError {
        ServiceError("ConditionalCheckFailedException", "The conditional request failed")
    }
}
