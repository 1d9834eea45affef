import DynamoModel

/// The part of UpdateItem's expression language the stand-in understands:
/// `SET a = :v, #b = :w REMOVE c, #d` on top-level attributes, where a SET
/// value is a `:placeholder` or another attribute. Anything else (nested
/// paths, ADD, DELETE, functions, arithmetic) is refused with a
/// ValidationException, so a test never passes on a half-understood update.
struct UpdateExpression {
    enum Operand: Equatable {
        case value(String)      // ":v"
        case attribute(String)  // resolved name
    }

    private(set) var sets: [(name: String, operand: Operand)] = []
    private(set) var removes: [String] = []

    /// Parses `text`, resolving `#names` through `names`.
    /// - Parameter alsoUsed: name placeholders a condition of the same
    ///   request uses (not unused, then).
    init(_ text: String, names: [String: String], alsoUsed: Set<String> = []) throws(ServiceError) {
        var tokens = try Self.tokenize(text)[...]
        var usedNames: Set<String> = []
        func path() throws(ServiceError) -> String {
            guard let token = tokens.popFirst() else { throw Self.invalid("expected an attribute name") }
            if token.hasPrefix("#") {
                guard let name = names[token] else {
                    throw ServiceError.validation("Invalid UpdateExpression: An expression attribute name used in the document path is not defined; attribute name: \(token)")
                }
                usedNames.insert(token)
                return name
            }
            guard let first = token.first, first.isLetter || first == "_" else {
                throw Self.invalid("expected an attribute name, found \(token)")
            }
            if Self.reserved.contains(token.uppercased()) {
                throw ServiceError.validation("Invalid UpdateExpression: Attribute name is a reserved keyword; reserved keyword: \(token)")
            }
            return token
        }
        var seen: Set<String> = []
        func claim(_ name: String) throws(ServiceError) {
            guard seen.insert(name).inserted else {
                throw ServiceError.validation("Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [\(name)], path two: [\(name)]")
            }
        }
        var clauses: Set<String> = []
        while let keyword = tokens.popFirst() {
            let clause = keyword.uppercased()
            guard clauses.insert(clause).inserted else {
                throw Self.invalid("The \"\(clause)\" section can only be used once in an update expression")
            }
            switch clause {
            case "SET":
                repeat {
                    let name = try path()
                    try claim(name)
                    guard tokens.popFirst() == "=" else { throw Self.invalid("expected = after \(name)") }
                    guard let operand = tokens.popFirst() else { throw Self.invalid("expected a value") }
                    if operand.hasPrefix(":") {
                        sets.append((name, .value(operand)))
                    } else {
                        tokens.insert(operand, at: tokens.startIndex)
                        sets.append((name, .attribute(try path())))
                    }
                    if let next = tokens.first, next == "(" || next == "+" || next == "-" {
                        throw Self.unsupported("functions and arithmetic")
                    }
                } while Self.comma(&tokens)
            case "REMOVE":
                repeat {
                    let name = try path()
                    try claim(name)
                    removes.append(name)
                } while Self.comma(&tokens)
            case "ADD", "DELETE":
                throw Self.unsupported("\(clause) clauses")
            default:
                throw Self.invalid("unexpected \(keyword)")
            }
        }
        guard !sets.isEmpty || !removes.isEmpty else { throw Self.invalid("the expression is empty") }
        if let unused = names.keys.sorted().first(where: { !usedNames.contains($0) && !alsoUsed.contains($0) }) {
            throw ServiceError.validation("Value provided in ExpressionAttributeNames unused in expressions: keys: {\(unused)}")
        }
    }

    /// The placeholders the expression reads.
    var valuePlaceholders: Set<String> {
        Set(sets.compactMap { if case .value(let v) = $0.operand { v } else { nil } })
    }

    /// The item after the update (`item` is empty when none existed).
    func apply(to item: Item, values: Item, keyNames: [String], alsoUsed: Set<String> = []) throws(ServiceError) -> Item {
        if let unused = values.keys.sorted().first(where: { !valuePlaceholders.contains($0) && !alsoUsed.contains($0) }) {
            throw ServiceError.validation("Value provided in ExpressionAttributeValues unused in expressions: keys: {\(unused)}")
        }
        var result = item
        for (name, operand) in sets {
            if keyNames.contains(name) { throw Self.keyAttribute(name) }
            switch operand {
            case .value(let placeholder):
                guard let value = values[placeholder] else {
                    throw ServiceError.validation("Invalid UpdateExpression: An expression attribute value used in expression is not defined; attribute value: \(placeholder)")
                }
                result[name] = value
            case .attribute(let source):
                guard let value = item[source] else {
                    throw ServiceError.validation("The provided expression refers to an attribute that does not exist in the item")
                }
                result[name] = value
            }
        }
        for name in removes {
            if keyNames.contains(name) { throw Self.keyAttribute(name) }
            result[name] = nil
        }
        return result
    }

    // MARK: - Tokens

    private static func tokenize(_ text: String) throws(ServiceError) -> [String] {
        var tokens: [String] = []
        var current = ""
        func flush() {
            if !current.isEmpty { tokens.append(current) }
            current = ""
        }
        for character in text {
            switch character {
            case " ", "\t", "\n", "\r":
                flush()
            case "=", ",", "(", ")", "+", "-":
                flush()
                tokens.append(String(character))
            case ".", "[", "]":
                throw unsupported("nested document paths")
            case "#", ":":
                flush()
                current.append(character)
            default:
                guard character.isLetter || character.isNumber || character == "_" else {
                    throw invalid("unexpected character \(character)")
                }
                current.append(character)
            }
        }
        flush()
        return tokens
    }

    private static func comma(_ tokens: inout ArraySlice<String>) -> Bool {
        guard tokens.first == "," else { return false }
        tokens.removeFirst()
        return true
    }

    private static func invalid(_ detail: String) -> ServiceError {
        .validation("Invalid UpdateExpression: \(detail)")
    }

    private static func unsupported(_ what: String) -> ServiceError {
        .validation("Invalid UpdateExpression: \(what) are not supported by the stand-in")
    }

    private static func keyAttribute(_ name: String) -> ServiceError {
        .validation("One or more parameter values were invalid: Cannot update attribute \(name). This attribute is part of the key")
    }

    /// A few of DynamoDB's reserved words, the ones tests trip over.
    private static let reserved: Set<String> = [
        "SET", "REMOVE", "ADD", "DELETE", "NAME", "STATUS", "DATA", "VALUE", "KEY", "TIMESTAMP",
        "DATE", "TIME", "SIZE", "COUNT", "USER", "TYPE", "ORDER", "TTL",
    ]
}
