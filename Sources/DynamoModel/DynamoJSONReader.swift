/// Reads DynamoDB JSON (`{"name": {"S": "x"}, ...}`) from bytes into
/// ``Item`` and ``AttributeValue`` trees.
///
/// Checks everything ``DynamoJSONValidator`` checks (JSON syntax, type
/// tags, numbers, base64, non-empty sets, `NULL` is `true`). Numbers keep
/// their text; `B` values are decoded from base64. A duplicated attribute
/// name keeps its first value, and duplicate set members are not detected
/// (DynamoDB never sends them; the target would refuse them).
///
///     let item = try DynamoJSONReader.readItem(Array(#"{"id":{"S":"a"},"n":{"N":"1.5"}}"#.utf8))
///     item["n"]  // .n("1.5")
///
/// Offsets in a thrown ``DynamoJSONError`` count from the start of the
/// buffer handed in, even when a sub-range is read.
public enum DynamoJSONReader {
    /// Reads an item from `bytes[range]` (all of `bytes` when `range` is `nil`).
    /// Whitespace may surround the object; nothing else may.
    public static func readItem(_ bytes: [UInt8], range: Range<Int>? = nil) throws -> Item {
        try JSONScanner.with(bytes, range: range) { try readWholeItem(&$0) }
    }

    /// Reads an item from raw memory.
    public static func readItem(_ bytes: UnsafeRawBufferPointer) throws -> Item {
        try JSONScanner.with(bytes) { try readWholeItem(&$0) }
    }

    /// Reads an item from text; for tests and non-hot paths.
    public static func readItem(_ text: String) throws -> Item {
        try readItem(Array(text.utf8))
    }

    /// Reads one attribute value (`{"S": "x"}`) from `bytes[range]`.
    public static func readAttributeValue(_ bytes: [UInt8], range: Range<Int>? = nil) throws -> AttributeValue {
        try JSONScanner.with(bytes, range: range) { try readWholeValue(&$0) }
    }

    /// Reads one attribute value from raw memory.
    public static func readAttributeValue(_ bytes: UnsafeRawBufferPointer) throws -> AttributeValue {
        try JSONScanner.with(bytes) { try readWholeValue(&$0) }
    }

    /// Reads one attribute value from text; for tests and non-hot paths.
    public static func readAttributeValue(_ text: String) throws -> AttributeValue {
        try readAttributeValue(Array(text.utf8))
    }

    private static func readWholeItem(_ scanner: inout JSONScanner) throws -> Item {
        scanner.skipWhitespace()
        let item = try scanner.readItemObject()
        try scanner.expectEnd()
        return item
    }

    private static func readWholeValue(_ scanner: inout JSONScanner) throws -> AttributeValue {
        scanner.skipWhitespace()
        let value = try scanner.readAttributeValue()
        try scanner.expectEnd()
        return value
    }
}

extension JSONScanner {
    /// Reads an object of attribute names to attribute values: an item, or
    /// the content of an `M`.
    mutating func readItemObject() throws -> Item {
        guard current == UInt8(ascii: "{") else {
            if pos >= end { throw unexpected("expected an item object") }
            throw itemError("expected an item object", at: pos)
        }
        try beginObject()
        // Room for a typical item up front instead of growing 1, 2, 4, 8, 16.
        if pendingMembers.capacity == 0 { pendingMembers.reserveCapacity(16) }
        let base = pendingMembers.count
        var first = true
        while let name = try nextObjectKey(&first) {
            let key = makeString(name)
            let value = try readAttributeValue()
            pendingMembers.append((key, value))
        }
        var item = Item(minimumCapacity: pendingMembers.count - base)
        // Popping moves each member without copying it; because it runs
        // backwards, a repeated name ends up with its first value, the same
        // rule as `JSONView`.
        while pendingMembers.count > base {
            let (name, value) = pendingMembers.removeLast()
            item[name] = value
        }
        return item
    }

    /// Reads one `{"TAG": value}` attribute value.
    mutating func readAttributeValue() throws -> AttributeValue {
        let (tag, _) = try beginAttributeValue()
        let value: AttributeValue
        switch tag {
        case .s:
            value = .s(makeString(try scanTaggedString("S value must be a string")))
        case .n:
            let token = try scanTaggedString("N value must be a string")
            try checkNumber(token)
            value = .n(makeString(token))
        case .b:
            value = .b(try readBase64(try scanTaggedString("B value must be a string")))
        case .bool:
            value = .bool(try scanBoolForTag("BOOL value must be true or false"))
        case .null:
            try scanNullTrue()
            value = .null
        case .m:
            try requireContainer(UInt8(ascii: "{"), "M value must be an object")
            value = .m(try readItemObject())
        case .l:
            try requireContainer(UInt8(ascii: "["), "L value must be an array")
            try beginArray()
            var list: [AttributeValue] = []
            var first = true
            while try nextArrayElement(&first) { list.append(try readAttributeValue()) }
            value = .l(list)
        case .ss:
            var set: [String] = []
            try readSet(.ss) { scanner, token in set.append(scanner.makeString(token)) }
            value = .ss(set)
        case .ns:
            var set: [String] = []
            try readSet(.ns) { scanner, token in
                try scanner.checkNumber(token)
                set.append(scanner.makeString(token))
            }
            value = .ns(set)
        case .bs:
            var set: [[UInt8]] = []
            try readSet(.bs) { scanner, token in set.append(try scanner.readBase64(token)) }
            value = .bs(set)
        }
        try endAttributeValue()
        return value
    }

    /// Decodes the base64 content of a `B` string or `BS` member.
    func readBase64(_ token: StringToken) throws -> [UInt8] {
        let bytes = withDecodedBytes(token) { Base64.decode($0) }
        guard let bytes else { throw itemError("invalid base64", at: token.start - 1) }
        return bytes
    }

    /// The three set types, for their error messages.
    enum SetTag {
        case ss, ns, bs

        var notAnArray: StaticString {
            switch self {
            case .ss: "SS value must be an array"
            case .ns: "NS value must be an array"
            case .bs: "BS value must be an array"
            }
        }

        var memberNotAString: StaticString {
            switch self {
            case .ss: "SS member must be a string"
            case .ns: "NS member must be a string"
            case .bs: "BS member must be a string"
            }
        }

        var empty: StaticString {
            switch self {
            case .ss: "SS value must not be empty"
            case .ns: "NS value must not be empty"
            case .bs: "BS value must not be empty"
            }
        }
    }

    /// Walks the non-empty array of strings of a set, calling `member` for each.
    mutating func readSet(
        _ tag: SetTag, _ member: (inout JSONScanner, StringToken) throws -> Void
    ) throws {
        let start = pos
        try requireContainer(UInt8(ascii: "["), tag.notAnArray)
        try beginArray()
        var first = true
        while try nextArrayElement(&first) {
            let token = try scanTaggedString(tag.memberNotAString)
            try member(&self, token)
        }
        guard !first else { throw itemError(tag.empty, at: start) }
    }
}
