/// Writes compact JSON and DynamoDB JSON into a byte array, for request
/// bodies built on the hot path.
///
/// Values written into an object or array are separated with commas
/// automatically: before a key or a value the writer adds `,` when the last
/// byte written ends a value (`}` `]` `"`, a digit, or the end of
/// `true`/`false`/`null`). So raw bytes can be spliced in as values and
/// separators cannot be forgotten. A BatchWriteItem body:
///
///     var w = DynamoJSONWriter()
///     w.beginObject()
///     w.writeKey("RequestItems"); w.beginObject()
///     w.writeKey(table); w.beginArray()
///     w.beginObject(); w.writeKey("PutRequest"); w.beginObject()
///     w.writeKey("Item"); w.writeRawValue(image.rawBytes)     // copied unchanged
///     w.endObject(); w.endObject()
///     w.beginObject(); w.writeKey("DeleteRequest"); w.beginObject()
///     w.writeKey("Key"); w.writeItem(key)
///     w.endObject(); w.endObject()
///     w.endArray(); w.endObject(); w.endObject()
///     send(w.bytes)
///
/// Strings are escaped as JSON requires (quote, backslash, control
/// characters); other characters, including all non-ASCII, pass through as
/// UTF-8. Binary values are written as standard base64 with padding.
/// The writer does not check structure: unbalanced begin/end calls produce
/// unbalanced output.
public struct DynamoJSONWriter: Sendable {
    /// The output so far.
    public var bytes: [UInt8]

    /// When `true`, items and maps are written with their attribute names
    /// sorted, so equal items give equal bytes (for tests, signatures,
    /// digests); off by default because sorting costs time.
    public var sortsKeys = false

    /// Creates a writer whose buffer has room for `capacity` bytes.
    public init(capacity: Int = 1024) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// Empties the output, keeping its capacity for reuse.
    public mutating func reset() {
        bytes.removeAll(keepingCapacity: true)
    }

    // MARK: - Structure

    /// Writes `{`.
    public mutating func beginObject() {
        separateIfNeeded()
        bytes.append(UInt8(ascii: "{"))
    }

    /// Writes `}`.
    public mutating func endObject() {
        bytes.append(UInt8(ascii: "}"))
    }

    /// Writes `[`.
    public mutating func beginArray() {
        separateIfNeeded()
        bytes.append(UInt8(ascii: "["))
    }

    /// Writes `]`.
    public mutating func endArray() {
        bytes.append(UInt8(ascii: "]"))
    }

    /// Writes an object key and its `:`; the value follows.
    public mutating func writeKey(_ key: String) {
        separateIfNeeded()
        appendQuoted(key)
        bytes.append(UInt8(ascii: ":"))
    }

    // MARK: - Scalars

    /// Writes a JSON string.
    public mutating func writeString(_ value: String) {
        separateIfNeeded()
        appendQuoted(value)
    }

    /// Writes number text as a JSON number; the caller vouches for the text.
    public mutating func writeNumberText(_ text: String) {
        separateIfNeeded()
        bytes.append(contentsOf: text.utf8)
    }

    /// Writes an integer.
    public mutating func writeInt(_ value: Int) {
        writeNumberText(String(value))
    }

    /// Writes `true` or `false`.
    public mutating func writeBool(_ value: Bool) {
        separateIfNeeded()
        appendLiteral(value ? "true" : "false")
    }

    /// Writes `null`.
    public mutating func writeNull() {
        separateIfNeeded()
        appendLiteral("null")
    }

    /// Writes `bytes` as a base64 JSON string.
    public mutating func writeBase64String(_ value: [UInt8]) {
        separateIfNeeded()
        appendBase64(value)
    }

    // MARK: - Raw bytes

    /// Splices in bytes that form one complete JSON value, with a separator
    /// if needed. The bytes are not checked; validate them first.
    public mutating func writeRawValue(_ raw: ArraySlice<UInt8>) {
        separateIfNeeded()
        bytes.append(contentsOf: raw)
    }

    /// Splices in bytes that form one complete JSON value; see the slice variant.
    public mutating func writeRawValue(_ raw: [UInt8]) {
        writeRawValue(raw[...])
    }

    /// Splices in raw memory that holds one complete JSON value.
    public mutating func writeRawValue(_ raw: UnsafeRawBufferPointer) {
        separateIfNeeded()
        bytes.append(contentsOf: raw)
    }

    /// Appends bytes verbatim, with no separator: for fragments such as a
    /// prebuilt `{"RequestItems":` prefix or a newline.
    public mutating func writeRaw(_ raw: ArraySlice<UInt8>) {
        bytes.append(contentsOf: raw)
    }

    /// Appends text verbatim, with no separator or escaping.
    public mutating func writeRaw(_ text: String) {
        bytes.append(contentsOf: text.utf8)
    }

    // MARK: - DynamoDB JSON

    /// Writes an item: `{"name":{"S":"x"},...}`.
    public mutating func writeItem(_ item: Item) {
        separateIfNeeded()
        appendItem(item)
    }

    /// Writes one attribute value: `{"S":"x"}`.
    public mutating func writeAttributeValue(_ value: AttributeValue) {
        separateIfNeeded()
        appendAttributeValue(value)
    }

    private mutating func appendItem(_ item: Item) {
        let sorted = sortsKeys
        appendMeasured(DynamoJSONEncoding.size(ofItem: item, sorted: sorted)) { out in
            DynamoJSONEncoding.write(item: item, sorted: sorted, to: &out)
        }
    }

    private mutating func appendAttributeValue(_ value: AttributeValue) {
        let sorted = sortsKeys
        appendMeasured(DynamoJSONEncoding.size(of: value, sorted: sorted)) { out in
            DynamoJSONEncoding.write(value, sorted: sorted, to: &out)
        }
    }

    /// Reserves exactly `size` bytes and lets `write` fill them through a
    /// cursor; see ``DynamoJSONEncoding`` for why.
    mutating func appendMeasured(_ size: Int, _ write: (inout ByteCursor) -> Void) {
        let start = bytes.count
        bytes.append(contentsOf: repeatElement(0, count: size))
        bytes.withUnsafeMutableBufferPointer { buffer in
            var cursor = ByteCursor(base: buffer.baseAddress!, offset: start)
            write(&cursor)
            // A mismatch would mean corrupt request bodies: stop loudly.
            precondition(cursor.offset == start + size, "DynamoJSONWriter: size and write passes disagree")
        }
    }

    // MARK: - Low level

    /// Adds `,` when the last byte ends a value; see the type's documentation.
    mutating func separateIfNeeded() {
        guard let last = bytes.last else { return }
        switch last {
        case UInt8(ascii: "}"), UInt8(ascii: "]"), UInt8(ascii: "\""),
             UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "e"), UInt8(ascii: "l"):
            bytes.append(UInt8(ascii: ","))
        default:
            break
        }
    }

    @inline(__always)
    mutating func appendLiteral(_ literal: StaticString) {
        bytes.append(contentsOf: UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount))
    }

    mutating func appendBase64(_ value: [UInt8]) {
        appendMeasured(2 + Base64.encodedCount(value.count)) { $0.putBase64(value) }
    }

    /// Appends `s` as a quoted, escaped JSON string.
    mutating func appendQuoted(_ s: String) {
        appendMeasured(DynamoJSONEncoding.quotedSize(s)) { $0.putQuoted(s) }
    }
}
