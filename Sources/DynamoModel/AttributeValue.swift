/// One DynamoDB attribute value, as in the `AttributeValue` of the DynamoDB API.
///
/// Numbers keep their decimal text exactly as received (`n("1.50")` stays
/// `"1.50"`): DynamoDB numbers have 38 significant digits and a `Double`
/// would silently round them. Binary values hold the decoded bytes; they are
/// base64 only on the wire.
///
/// `==` and `hash(into:)` are structural (`n("1.5") != n("1.50")`, set order
/// matters). Use ``semanticallyEquals(_:)`` to compare the way DynamoDB does.
///
/// The enum is not marked `indirect`: recursion goes through `Array` and
/// `Dictionary` storage, which is already on the heap, and leaving `indirect`
/// off saves one allocation per value on the parsing hot path.
public enum AttributeValue: Sendable, Hashable {
    /// A string (`"S"`); may be empty except in a key.
    case s(String)
    /// A number (`"N"`) as decimal text, for example `"-1.5E3"`.
    case n(String)
    /// A binary value (`"B"`), the decoded bytes.
    case b([UInt8])
    /// A Boolean (`"BOOL"`).
    case bool(Bool)
    /// A null (`"NULL": true`).
    case null
    /// A map (`"M"`) of attribute names to values.
    case m([String: AttributeValue])
    /// A list (`"L"`) of values of any type.
    case l([AttributeValue])
    /// A string set (`"SS"`); DynamoDB requires it to be non-empty.
    case ss([String])
    /// A number set (`"NS"`) as decimal texts; non-empty.
    case ns([String])
    /// A binary set (`"BS"`) of decoded byte strings; non-empty.
    case bs([[UInt8]])

    /// The DynamoDB JSON type tag of this value: `S`, `N`, `B`, `BOOL`,
    /// `NULL`, `M`, `L`, `SS`, `NS` or `BS`.
    public var typeTag: String {
        switch self {
        case .s: "S"
        case .n: "N"
        case .b: "B"
        case .bool: "BOOL"
        case .null: "NULL"
        case .m: "M"
        case .l: "L"
        case .ss: "SS"
        case .ns: "NS"
        case .bs: "BS"
        }
    }

    /// The string of an `.s` value, else `nil`.
    public var stringValue: String? {
        if case .s(let v) = self { return v }
        return nil
    }

    /// The decimal text of an `.n` value, else `nil`.
    public var numberText: String? {
        if case .n(let v) = self { return v }
        return nil
    }

    /// The bytes of a `.b` value, else `nil`.
    public var binaryValue: [UInt8]? {
        if case .b(let v) = self { return v }
        return nil
    }

    /// The Boolean of a `.bool` value, else `nil`.
    public var boolValue: Bool? {
        if case .bool(let v) = self { return v }
        return nil
    }

    /// The entries of an `.m` value, else `nil`.
    public var mapValue: [String: AttributeValue]? {
        if case .m(let v) = self { return v }
        return nil
    }

    /// The elements of an `.l` value, else `nil`.
    public var listValue: [AttributeValue]? {
        if case .l(let v) = self { return v }
        return nil
    }
}

/// A DynamoDB item: attribute names to values.
public typealias Item = [String: AttributeValue]
