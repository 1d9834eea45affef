/// One checking pass over a JSON document, for hot paths that read a large
/// response field by field (a GetRecords page: records inside an array,
/// images inside records).
///
/// ``JSONView`` checks the whole document first and then must find where
/// each value ends before it hands the value over, so a walk that descends
/// into nested values reads their bytes several times. Here the document is
/// checked while it is walked: the visitor descends into what it wants and
/// everything else is checked and skipped once. A value handed out as a
/// ``JSONView`` has been checked on the way.
///
///     try JSONWalker.walk(bytes) { w in
///         try w.object { key in
///             key == "Records" ? try w.array { try w.object { … } } : try w.skip()
///         }
///     }
///
/// Valid only inside the closure of ``walk(_:_:)``.
public struct JSONWalker {
    var scanner: JSONScanner
    let buffer: [UInt8]

    /// Walks `buffer`, which must hold one JSON value and nothing else.
    public static func walk<R>(_ buffer: [UInt8], _ body: (inout JSONWalker) throws -> R) throws -> R {
        try buffer.withUnsafeBufferPointer { buf in
            var walker = JSONWalker(scanner: JSONScanner(buf, range: 0..<buf.count), buffer: buffer)
            walker.scanner.skipWhitespace()
            let result = try body(&walker)
            try walker.scanner.expectEnd()
            return result
        }
    }

    /// An object member's name, compared without decoding or allocating.
    public struct Key {
        let buf: UnsafeBufferPointer<UInt8>
        let token: JSONScanner.StringToken

        public static func == (key: Key, name: StaticString) -> Bool {
            name.withUTF8Buffer { TrustedJSON.stringEquals(key.buf, key.token, $0) }
        }
    }

    /// The first byte of the value at the current position.
    public var next: UInt8? { scanner.current }

    /// Walks the object at the current position: `body` gets each member's
    /// name with the position at its value, and must consume the value
    /// (descend, ``skip()`` or ``view()``).
    public mutating func object(_ body: (inout JSONWalker, Key) throws -> Void) throws {
        try scanner.beginObject()
        var first = true
        while let key = try scanner.nextObjectKey(&first) {
            try body(&self, Key(buf: scanner.buf, token: key))
        }
    }

    /// Walks the array at the current position: `body` must consume each element.
    public mutating func array(_ body: (inout JSONWalker) throws -> Void) throws {
        try scanner.beginArray()
        var first = true
        while try scanner.nextArrayElement(&first) {
            try body(&self)
        }
    }

    /// Checks and skips the value at the current position.
    public mutating func skip() throws {
        try scanner.skipValue()
    }

    /// Checks the item object at the current position against the DynamoDB
    /// JSON rules (a superset of the JSON checks), decoding only its key
    /// attributes, and returns a view of it with its key: one pass where a
    /// check, a skip and a validation would be three.
    public mutating func item(keySchema: KeySchema) throws -> (view: JSONView, key: ItemKey) {
        let start = scanner.pos
        var decoded = Item()
        try scanner.validateItemObject(decoding: keySchema.attributeNames, into: &decoded)
        let key = try keySchema.makeKey(decoded, offset: start)
        return (JSONView(trusted: buffer, range: start..<scanner.pos), key)
    }

    /// Like ``item(keySchema:)``, but an item that breaks the DynamoDB rules
    /// (while being valid JSON) is returned without a key instead of
    /// failing the walk, so one bad record can be set aside on its own.
    public mutating func itemOrView(keySchema: KeySchema) throws -> (view: JSONView, key: ItemKey?) {
        let start = scanner.pos, depth = scanner.depth
        do {
            let (view, key) = try item(keySchema: keySchema)
            return (view, key)
        } catch {
            scanner.pos = start
            scanner.depth = depth
            return (try view(), nil)
        }
    }

    /// Checks the value at the current position and returns a view of it.
    public mutating func view() throws -> JSONView {
        let start = scanner.pos
        try scanner.skipValue()
        return JSONView(trusted: buffer, range: start..<scanner.pos)
    }
}
