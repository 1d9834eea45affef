/// The pieces of DynamoDB JSON shared by the reader (which builds values)
/// and the validator (which only checks them): the `{"TAG": ... }` frame,
/// the typed scalars and sets, and item-level error reporting.
extension JSONScanner {
    /// Reads the `{"TAG":` opening of an attribute value: checks the `{`,
    /// reads and matches the tag, and leaves `pos` at the tag's value.
    /// `valueStart` is where the attribute value object begins.
    mutating func beginAttributeValue() throws -> (tag: DynamoTypeTag, valueStart: Int) {
        let valueStart = pos
        guard current == UInt8(ascii: "{") else {
            if pos >= end { throw unexpected("expected an attribute value") }
            throw itemError("expected an attribute value object", at: pos)
        }
        try beginObject()
        if let tag = matchCompactTag() { return (tag, valueStart) }
        var first = true
        guard let key = try nextObjectKey(&first) else {
            throw itemError("attribute value has no type tag", at: valueStart)
        }
        guard let tag = withDecodedBytes(key, { DynamoTypeTag($0) }) else {
            throw itemError("unknown type tag", at: key.start - 1)
        }
        return (tag, valueStart)
    }

    /// The fast path for the usual `"S":` right after the `{`: matches the
    /// tag in place and moves to its value. Returns `nil`, moving nothing,
    /// for anything else (whitespace, escapes, unknown tags), which the
    /// general path then handles and reports.
    @inline(__always)
    mutating func matchCompactTag() -> DynamoTypeTag? {
        let p = pos
        guard p + 4 < end, buf[p] == UInt8(ascii: "\"") else { return nil }
        var length = 1
        while length < 5, buf[p + 1 + length] != UInt8(ascii: "\"") {
            length += 1
            guard p + 2 + length < end else { return nil }
        }
        guard length != 3, length < 5, buf[p + 2 + length] == UInt8(ascii: ":") else { return nil }
        guard let tag = DynamoTypeTag(UnsafeBufferPointer(rebasing: buf[(p + 1)..<(p + 1 + length)])) else {
            return nil
        }
        pos = p + 3 + length
        skipWhitespace()
        return tag
    }

    /// Reads the `}` that closes an attribute value; a second member means
    /// a second type tag, which DynamoDB rejects.
    mutating func endAttributeValue() throws {
        skipWhitespace()
        if current == UInt8(ascii: "}") {
            pos += 1
            depth -= 1
            return
        }
        if current == UInt8(ascii: ",") {
            throw itemError("attribute value has more than one type tag", at: pos)
        }
        throw unexpected("expected ',' or '}'")
    }

    /// Scans the string a tag requires (`S`, `N`, `B`, set members).
    mutating func scanTaggedString(_ reason: StaticString) throws -> StringToken {
        guard current == UInt8(ascii: "\"") else {
            if pos >= end { throw unexpected(reason) }
            throw itemError(reason, at: pos)
        }
        return try scanString()
    }

    /// Checks a `N` string's content; the error points at its opening quote.
    func checkNumber(_ token: StringToken) throws {
        let valid = withDecodedBytes(token) { NumberParts($0) != nil }
        guard valid else { throw itemError("invalid number", at: token.start - 1) }
    }

    /// Reads `NULL`'s value, which DynamoDB only accepts as `true`.
    mutating func scanNullTrue() throws {
        let at = pos
        guard try scanBoolForTag("NULL value must be true") else {
            throw itemError("NULL value must be true", at: at)
        }
    }

    /// Reads a Boolean a tag requires; a non-Boolean JSON value is an item error.
    mutating func scanBoolForTag(_ reason: StaticString) throws -> Bool {
        guard let b = current, b == UInt8(ascii: "t") || b == UInt8(ascii: "f") else {
            if pos >= end { throw unexpected(reason) }
            throw itemError(reason, at: pos)
        }
        return try scanBool()
    }

    /// Checks that the value at `pos` opens a container as a tag requires.
    func requireContainer(_ open: UInt8, _ reason: StaticString) throws {
        guard current == open else {
            if pos >= end { throw unexpected(reason) }
            throw itemError(reason, at: pos)
        }
    }
}
