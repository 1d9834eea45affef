/// Comparison with DynamoDB's meaning of "the same value", used by verify:
/// a replica may hold `1.5` where the source says `1.50`, and a set may come
/// back in another order; neither is a difference.
extension AttributeValue {
    /// Whether two values are the same to DynamoDB:
    /// - numbers by value (`1.50` = `1.5`, `0` = `-0` = `0.0`, `1e2` = `100`),
    ///   through ``DynamoNumber/normalize(_:)`` (invalid texts compare as text);
    /// - sets as sets: order and repetition do not matter;
    /// - strings and binary by their bytes (no Unicode normalization, as in DynamoDB);
    /// - maps and lists deeply; different types are never equal.
    public func semanticallyEquals(_ other: AttributeValue) -> Bool {
        switch (self, other) {
        case (.s(let a), .s(let b)):
            return a.utf8.elementsEqual(b.utf8)
        case (.n(let a), .n(let b)):
            return AttributeValue.numberKey(a) == AttributeValue.numberKey(b)
        case (.b(let a), .b(let b)):
            return a == b
        case (.bool(let a), .bool(let b)):
            return a == b
        case (.null, .null):
            return true
        case (.m(let a), .m(let b)):
            return a.semanticallyEquals(b)
        case (.l(let a), .l(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.semanticallyEquals($1) }
        case (.ss(let a), .ss(let b)):
            return Set(a.map { Array($0.utf8) }) == Set(b.map { Array($0.utf8) })
        case (.ns(let a), .ns(let b)):
            return Set(a.map(AttributeValue.numberKey)) == Set(b.map(AttributeValue.numberKey))
        case (.bs(let a), .bs(let b)):
            return Set(a) == Set(b)
        default:
            return false
        }
    }

    /// What a number compares by: its canonical form, or its text (marked
    /// so it cannot collide with a canonical form) when it is invalid.
    private static func numberKey(_ text: String) -> String {
        DynamoNumber.normalize(text) ?? "invalid:" + text
    }
}

extension Dictionary where Key == String, Value == AttributeValue {
    /// Whether two items hold the same attributes with semantically equal
    /// values; see ``AttributeValue/semanticallyEquals(_:)``.
    public func semanticallyEquals(_ other: Item) -> Bool {
        guard count == other.count else { return false }
        for (name, value) in self {
            guard let otherValue = other[name], value.semanticallyEquals(otherValue) else { return false }
        }
        return true
    }
}
