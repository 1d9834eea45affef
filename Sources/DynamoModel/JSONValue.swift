/// A generic JSON tree for request and response bodies off the hot path
/// (DescribeTable output, error bodies, manifests, checkpoint files).
///
/// Objects keep their members in order, so a body is written back exactly
/// as built; numbers stay as their text, so nothing is rounded. For the hot
/// path use ``JSONView`` (lazy, raw ranges) and ``DynamoJSONReader``.
///
///     let body = try JSONValue.parse(responseBytes)
///     let status = body["Table"]?["TableStatus"]?.stringValue
///     let request: JSONValue = .object([("TableName", .string("orders")), ("Limit", .number("10"))])
///     let bytes = request.serialized()   // {"TableName":"orders","Limit":10}
public enum JSONValue: Sendable, Equatable {
    /// An object; members in document order (duplicates are kept).
    case object([(key: String, value: JSONValue)])
    /// An array.
    case array([JSONValue])
    /// A string, unescaped.
    case string(String)
    /// A number as its JSON text, for example `"-1.5e3"`.
    case number(String)
    /// `true` or `false`.
    case bool(Bool)
    /// `null`.
    case null

    /// Parses one JSON value from `bytes[range]` (all of `bytes` when
    /// `range` is `nil`); whitespace may surround it.
    public static func parse(_ bytes: [UInt8], range: Range<Int>? = nil) throws -> JSONValue {
        try JSONScanner.with(bytes, range: range) { try parseWhole(&$0) }
    }

    /// Parses one JSON value from raw memory.
    public static func parse(_ bytes: UnsafeRawBufferPointer) throws -> JSONValue {
        try JSONScanner.with(bytes) { try parseWhole(&$0) }
    }

    /// Parses one JSON value from text.
    public static func parse(_ text: String) throws -> JSONValue {
        try parse(Array(text.utf8))
    }

    private static func parseWhole(_ scanner: inout JSONScanner) throws -> JSONValue {
        scanner.skipWhitespace()
        let value = try scanner.parseJSONValue()
        try scanner.expectEnd()
        return value
    }

    /// The compact JSON text of this value, as UTF-8 bytes.
    public func serialized() -> [UInt8] {
        var writer = DynamoJSONWriter()
        writer.writeJSONValue(self)
        return writer.bytes
    }

    /// The compact JSON text of this value.
    public var jsonText: String { String(decoding: serialized(), as: UTF8.self) }

    /// The value of the first member named `key`, if this is an object.
    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.first { $0.key == key }?.value
    }

    /// Element `index`, if this is an array that long.
    public subscript(index: Int) -> JSONValue? {
        guard case .array(let elements) = self, elements.indices.contains(index) else { return nil }
        return elements[index]
    }

    /// The text of a string.
    public var stringValue: String? {
        if case .string(let v) = self { return v }
        return nil
    }

    /// The text of a number.
    public var numberText: String? {
        if case .number(let v) = self { return v }
        return nil
    }

    /// A number as an `Int`, if it is an integer that fits.
    public var intValue: Int? { numberText.flatMap { Int($0) } }

    /// A number as a `Double` (rounded; never for item data).
    public var doubleValue: Double? { numberText.flatMap { Double($0) } }

    /// The value of a Boolean.
    public var boolValue: Bool? {
        if case .bool(let v) = self { return v }
        return nil
    }

    /// The elements of an array.
    public var arrayValue: [JSONValue]? {
        if case .array(let v) = self { return v }
        return nil
    }

    /// The members of an object, in order.
    public var members: [(key: String, value: JSONValue)]? {
        if case .object(let v) = self { return v }
        return nil
    }

    /// Whether this is `null`.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// Structural equality; object members compare in order.
    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.object(let a), .object(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        case (.array(let a), .array(let b)): return a == b
        case (.string(let a), .string(let b)): return a == b
        case (.number(let a), .number(let b)): return a == b
        case (.bool(let a), .bool(let b)): return a == b
        case (.null, .null): return true
        default: return false
        }
    }

    /// The DynamoDB JSON of `item` as a tree, to embed in a request built
    /// from ``JSONValue`` (for example a `Key` or `ExclusiveStartKey`).
    public init(dynamoItem item: Item) {
        var writer = DynamoJSONWriter()
        writer.writeItem(item)
        // The writer's output always parses; a failure would be a bug here.
        do {
            self = try JSONValue.parse(writer.bytes)
        } catch {
            preconditionFailure("writer produced invalid JSON: \(error)")
        }
    }

    /// Reads this value as a DynamoDB JSON item (for example a response's
    /// `Item` or `LastEvaluatedKey`).
    public func dynamoItem() throws -> Item {
        try DynamoJSONReader.readItem(serialized())
    }
}

extension JSONScanner {
    /// Parses any JSON value at `pos`.
    mutating func parseJSONValue() throws -> JSONValue {
        guard let b = current else { throw unexpected("expected a value") }
        switch b {
        case UInt8(ascii: "\""):
            return .string(makeString(try scanString()))
        case UInt8(ascii: "{"):
            try beginObject()
            var members: [(key: String, value: JSONValue)] = []
            var first = true
            while let key = try nextObjectKey(&first) {
                let name = makeString(key)
                members.append((name, try parseJSONValue()))
            }
            return .object(members)
        case UInt8(ascii: "["):
            try beginArray()
            var elements: [JSONValue] = []
            var first = true
            while try nextArrayElement(&first) { elements.append(try parseJSONValue()) }
            return .array(elements)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            let range = try scanNumber()
            return .number(String(decoding: UnsafeBufferPointer(rebasing: buf[range]), as: UTF8.self))
        case UInt8(ascii: "t"), UInt8(ascii: "f"):
            return .bool(try scanBool())
        case UInt8(ascii: "n"):
            guard matchLiteral("null") else { throw syntaxError("expected a value") }
            return .null
        default:
            throw syntaxError("expected a value")
        }
    }
}

extension DynamoJSONWriter {
    /// Writes a ``JSONValue`` compactly. A `.number` is written as its text
    /// and must be valid JSON number text.
    public mutating func writeJSONValue(_ value: JSONValue) {
        separateIfNeeded()
        writeJSONValueBody(value)
    }

    private mutating func writeJSONValueBody(_ value: JSONValue) {
        switch value {
        case .object(let members):
            bytes.append(UInt8(ascii: "{"))
            for (index, member) in members.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                appendQuoted(member.key)
                bytes.append(UInt8(ascii: ":"))
                writeJSONValueBody(member.value)
            }
            bytes.append(UInt8(ascii: "}"))
        case .array(let elements):
            bytes.append(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                writeJSONValueBody(element)
            }
            bytes.append(UInt8(ascii: "]"))
        case .string(let s):
            appendQuoted(s)
        case .number(let text):
            bytes.append(contentsOf: text.utf8)
        case .bool(let v):
            appendLiteral(v ? "true" : "false")
        case .null:
            appendLiteral("null")
        }
    }
}
