/// Checks DynamoDB JSON without building it, for the raw-passthrough hot
/// path: a stream record's `NewImage` or an export line's `Item` is checked
/// here and then copied into a request body byte for byte.
///
/// The checks are those of ``DynamoJSONReader``: well-formed JSON (escapes,
/// UTF-8, nesting), an object of attribute values, each with exactly one
/// known type tag (`S N B BOOL NULL M L SS NS BS`), numbers that DynamoDB
/// accepts (syntax, 38 digits, range), valid base64, non-empty sets, `NULL`
/// only `true`. Duplicate attribute names and duplicate set members are not
/// detected. Nothing is allocated unless attributes are decoded.
///
///     // Validate an item and decode only its key attributes in one pass.
///     let key = try DynamoJSONValidator.validateItem(line, range: itemRange, decoding: ["pk", "sk"])
public enum DynamoJSONValidator {
    /// Checks that `bytes[range]` (all of `bytes` when `range` is `nil`) is
    /// one DynamoDB JSON item, and decodes the attributes named in
    /// `decoding` (the others are only checked).
    ///
    /// - Returns: the decoded attributes that were present; empty when
    ///   `decoding` is empty.
    @discardableResult
    public static func validateItem(
        _ bytes: [UInt8], range: Range<Int>? = nil, decoding names: [String] = []
    ) throws -> Item {
        try JSONScanner.with(bytes, range: range) { try validateWholeItem(&$0, names) }
    }

    /// Checks raw memory holding one DynamoDB JSON item; see
    /// ``validateItem(_:range:decoding:)``.
    @discardableResult
    public static func validateItem(_ bytes: UnsafeRawBufferPointer, decoding names: [String] = []) throws -> Item {
        try JSONScanner.with(bytes) { try validateWholeItem(&$0, names) }
    }

    /// Checks that `bytes[range]` is one DynamoDB JSON attribute value.
    public static func validateAttributeValue(_ bytes: [UInt8], range: Range<Int>? = nil) throws {
        try JSONScanner.with(bytes, range: range) { scanner in
            scanner.skipWhitespace()
            try scanner.validateAttributeValue()
            try scanner.expectEnd()
        }
    }

    private static func validateWholeItem(_ scanner: inout JSONScanner, _ names: [String]) throws -> Item {
        scanner.skipWhitespace()
        var decoded = Item()
        if names.isEmpty {
            try scanner.validateItemObject()
        } else {
            try scanner.validateItemObject(decoding: names, into: &decoded)
        }
        try scanner.expectEnd()
        return decoded
    }
}

extension JSONScanner {
    /// Checks an object of attribute names to attribute values.
    mutating func validateItemObject() throws {
        guard current == UInt8(ascii: "{") else {
            if pos >= end { throw unexpected("expected an item object") }
            throw itemError("expected an item object", at: pos)
        }
        try beginObject()
        var first = true
        while try nextObjectKey(&first) != nil { try validateAttributeValue() }
    }

    /// Checks an item object, decoding the top-level attributes named in
    /// `names` into `decoded`.
    mutating func validateItemObject(decoding names: [String], into decoded: inout Item) throws {
        guard current == UInt8(ascii: "{") else {
            if pos >= end { throw unexpected("expected an item object") }
            throw itemError("expected an item object", at: pos)
        }
        try beginObject()
        var first = true
        while let key = try nextObjectKey(&first) {
            var wanted: String?
            for name in names {
                var name = name
                if name.withUTF8({ stringEquals(key, $0) }) {
                    wanted = name
                    break
                }
            }
            if let wanted {
                decoded[wanted] = try readAttributeValue()
            } else {
                try validateAttributeValue()
            }
        }
    }

    /// Checks one `{"TAG": value}` attribute value.
    mutating func validateAttributeValue() throws {
        let (tag, _) = try beginAttributeValue()
        switch tag {
        case .s:
            _ = try scanTaggedString("S value must be a string")
        case .n:
            try checkNumber(try scanTaggedString("N value must be a string"))
        case .b:
            try checkBase64(try scanTaggedString("B value must be a string"))
        case .bool:
            _ = try scanBoolForTag("BOOL value must be true or false")
        case .null:
            try scanNullTrue()
        case .m:
            try requireContainer(UInt8(ascii: "{"), "M value must be an object")
            try validateItemObject()
        case .l:
            try requireContainer(UInt8(ascii: "["), "L value must be an array")
            try beginArray()
            var first = true
            while try nextArrayElement(&first) { try validateAttributeValue() }
        case .ss:
            try readSet(.ss) { _, _ in }
        case .ns:
            try readSet(.ns) { scanner, token in try scanner.checkNumber(token) }
        case .bs:
            try readSet(.bs) { scanner, token in try scanner.checkBase64(token) }
        }
        try endAttributeValue()
    }

    /// Checks the base64 content of a `B` string or `BS` member.
    func checkBase64(_ token: StringToken) throws {
        let valid = withDecodedBytes(token) { Base64.decodedCount($0) != nil }
        guard valid else { throw itemError("invalid base64", at: token.start - 1) }
    }
}
