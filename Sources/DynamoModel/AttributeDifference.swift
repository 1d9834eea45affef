/// One top-level attribute on which two items differ: the evidence verify
/// reports before saying a replica is (not) safe to cut over to.
///
/// It names the attribute and the kind of difference, never the values, so
/// it can be logged.
public struct AttributeDifference: Sendable, Hashable, CustomStringConvertible {
    /// How the attribute differs.
    public enum Kind: String, Sendable, Hashable {
        /// Present in the item `diff` was called on, absent from the other.
        case missingInOther = "missing_in_other"
        /// Absent from the item `diff` was called on, present in the other.
        case missingInSelf = "missing_in_self"
        /// Present in both with different type tags (for example `N` and `S`).
        case typeDiffers = "type_differs"
        /// Present in both with the same type and semantically different values.
        case valueDiffers = "value_differs"
    }

    /// The attribute's name.
    public let name: String
    /// How it differs.
    public let kind: Kind

    /// A difference of `kind` on attribute `name`.
    public init(name: String, kind: Kind) {
        self.name = name
        self.kind = kind
    }

    /// For example `attribute "price": value_differs`.
    public var description: String { "attribute \"\(name)\": \(kind.rawValue)" }
}

extension Dictionary where Key == String, Value == AttributeValue {
    /// The top-level attributes on which this item and `other` differ,
    /// compared semantically (see ``AttributeValue/semanticallyEquals(_:)``),
    /// sorted by name; empty when the items are the same to DynamoDB.
    public func diff(_ other: Item) -> [AttributeDifference] {
        var differences: [AttributeDifference] = []
        for (name, value) in self {
            guard let otherValue = other[name] else {
                differences.append(AttributeDifference(name: name, kind: .missingInOther))
                continue
            }
            if value.typeTag != otherValue.typeTag {
                differences.append(AttributeDifference(name: name, kind: .typeDiffers))
            } else if !value.semanticallyEquals(otherValue) {
                differences.append(AttributeDifference(name: name, kind: .valueDiffers))
            }
        }
        for name in other.keys where self[name] == nil {
            differences.append(AttributeDifference(name: name, kind: .missingInSelf))
        }
        return differences.sorted { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
    }
}
