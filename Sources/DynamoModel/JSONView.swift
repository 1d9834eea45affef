/// A lazily read view of a JSON value inside a byte buffer: the fast way to
/// pick fields out of stream records, export lines and API responses and to
/// hand on the raw bytes of a sub-document without decoding it.
///
/// The initializer checks the whole document once (syntax, escapes, UTF-8,
/// nesting); after that navigation cannot fail and allocates nothing: a
/// lookup walks the bytes and skips the values it passes over. A view keeps
/// the buffer alive (a reference-counted `[UInt8]`, not a copy).
///
///     let record = try JSONView(bytes)
///     let name = record["eventName"]?.string            // "INSERT"
///     if let image = record["dynamodb"]?["NewImage"] {
///         try image.validateItem()                       // DynamoDB rules
///         writer.writeRawValue(image.rawBytes)           // copied unchanged
///     }
///     record["dynamodb"]?["SequenceNumber"]?.string      // "123"
///
/// Lookups are linear in the size of the object (it is not indexed), which
/// beats building a dictionary for the handful of fields a caller reads.
/// With a duplicated key the first occurrence wins.
public struct JSONView: Sendable {
    /// The kind of a JSON value.
    public enum Kind: Sendable, Hashable {
        /// `{...}`
        case object
        /// `[...]`
        case array
        /// `"..."`
        case string
        /// A number such as `-1.5e3`.
        case number
        /// `true` or `false`.
        case bool
        /// `null`.
        case null
    }

    /// The whole buffer the view points into.
    public let buffer: [UInt8]
    /// The exact bytes of this value in `buffer`, without surrounding whitespace.
    public let rawRange: Range<Int>

    /// Checks that `buffer[range]` (all of it when `range` is `nil`) is one
    /// JSON value, optionally surrounded by whitespace, and views it.
    public init(_ buffer: [UInt8], range: Range<Int>? = nil) throws {
        let valueRange = try JSONScanner.with(buffer, range: range) { scanner -> Range<Int> in
            scanner.skipWhitespace()
            let start = scanner.pos
            try scanner.skipValue()
            let end = scanner.pos
            try scanner.expectEnd()
            return start..<end
        }
        self.init(trusted: buffer, range: valueRange)
    }

    /// Checks and views JSON text; for tests and non-hot paths.
    public init(_ text: String) throws {
        try self.init(Array(text.utf8))
    }

    /// Views a range already known to hold exactly one valid JSON value.
    init(trusted buffer: [UInt8], range: Range<Int>) {
        self.buffer = buffer
        self.rawRange = range
    }

    /// The bytes of this value, a slice of `buffer` (no copy).
    public var rawBytes: ArraySlice<UInt8> { buffer[rawRange] }

    /// What kind of value this is, from its first byte.
    public var kind: Kind {
        switch buffer[rawRange.lowerBound] {
        case UInt8(ascii: "{"): .object
        case UInt8(ascii: "["): .array
        case UInt8(ascii: "\""): .string
        case UInt8(ascii: "t"), UInt8(ascii: "f"): .bool
        case UInt8(ascii: "n"): .null
        default: .number
        }
    }

    /// The value of member `key` if this is an object that has it.
    public subscript(key: String) -> JSONView? {
        guard kind == .object else { return nil }
        var key = key
        return key.withUTF8 { wanted in
            buffer.withUnsafeBufferPointer { buf -> JSONView? in
                var found: Range<Int>?
                TrustedJSON.forEachMember(buf, objectAt: rawRange.lowerBound) { keyToken, value in
                    guard TrustedJSON.stringEquals(buf, keyToken, wanted) else { return true }
                    found = value
                    return false
                }
                return found.map { JSONView(trusted: buffer, range: $0) }
            }
        }
    }

    /// Element `index` if this is an array that long (a linear walk).
    public subscript(index: Int) -> JSONView? {
        guard kind == .array, index >= 0 else { return nil }
        return buffer.withUnsafeBufferPointer { buf -> JSONView? in
            var found: Range<Int>?
            var i = 0
            TrustedJSON.forEachElement(buf, arrayAt: rawRange.lowerBound) { element in
                guard i == index else {
                    i += 1
                    return true
                }
                found = element
                return false
            }
            return found.map { JSONView(trusted: buffer, range: $0) }
        }
    }

    /// The decoded text if this is a string.
    public var string: String? {
        guard kind == .string else { return nil }
        return buffer.withUnsafeBufferPointer { buf in
            let token = TrustedJSON.stringToken(buf, at: rawRange.lowerBound)
            return JSONScanner(buf, range: rawRange).makeString(token)
        }
    }

    /// The number's text exactly as written, if this is a number.
    public var numberText: String? {
        guard kind == .number else { return nil }
        return String(decoding: rawBytes, as: UTF8.self)
    }

    /// The number as an `Int` if it is an integer that fits.
    public var intValue: Int? { numberText.flatMap { Int($0) } }

    /// The number as a `Double` (rounded); never use it for item data.
    public var doubleValue: Double? { numberText.flatMap { Double($0) } }

    /// The Boolean if this is `true` or `false`.
    public var bool: Bool? {
        guard kind == .bool else { return nil }
        return buffer[rawRange.lowerBound] == UInt8(ascii: "t")
    }

    /// Whether this is `null`.
    public var isNull: Bool { kind == .null }

    /// Calls `body` with each member's key and value, in document order.
    public func forEachMember(_ body: (String, JSONView) throws -> Void) rethrows {
        guard kind == .object else { return }
        try buffer.withUnsafeBufferPointer { buf in
            try TrustedJSON.forEachMember(buf, objectAt: rawRange.lowerBound) { key, value in
                let name = JSONScanner(buf, range: rawRange).makeString(key)
                try body(name, JSONView(trusted: buffer, range: value))
                return true
            }
        }
    }

    /// Calls `body` with each element, in order, if this is an array.
    public func forEachElement(_ body: (JSONView) throws -> Void) rethrows {
        guard kind == .array else { return }
        try buffer.withUnsafeBufferPointer { buf in
            try TrustedJSON.forEachElement(buf, arrayAt: rawRange.lowerBound) { element in
                try body(JSONView(trusted: buffer, range: element))
                return true
            }
        }
    }

    /// The elements if this is an array, else empty.
    public var elements: [JSONView] {
        var result: [JSONView] = []
        forEachElement { result.append($0) }
        return result
    }

    /// Reads this value as a DynamoDB JSON item.
    public func readItem() throws -> Item {
        try DynamoJSONReader.readItem(buffer, range: rawRange)
    }

    /// Checks this value against the DynamoDB JSON rules, decoding only the
    /// attributes named in `names`; see ``DynamoJSONValidator``.
    @discardableResult
    public func validateItem(decoding names: [String] = []) throws -> Item {
        try DynamoJSONValidator.validateItem(buffer, range: rawRange, decoding: names)
    }

    /// Builds the full ``JSONValue`` tree of this value.
    public func jsonValue() throws -> JSONValue {
        try JSONValue.parse(buffer, range: rawRange)
    }
}
