/// One pass over a checked JSON document, for hot paths that read a large
/// response field by field (a GetRecords page: records inside an array,
/// images inside records).
///
/// ``JSONView/forEachMember(_:)`` must find where each value ends before it
/// hands the value over, so a walk that then descends into the value reads
/// its bytes twice, and one nested three deep reads them four times. Here
/// the visitor descends itself and returns where the value ended; only the
/// values it does not want are skipped, once.
///
///     try page.walk { w in
///         w.object(at: w.start) { key, at in
///             key == "Records" ? w.array(at: at) { at in w.object(at: at) { … } } : nil
///         }
///     }
/// Valid only inside the closure of ``JSONView/walk(_:)``: it points into
/// the buffer while that closure runs.
public struct JSONWalker {
    let buf: UnsafeBufferPointer<UInt8>
    /// Where the viewed value starts.
    public let start: Int
    let buffer: [UInt8]

    init(buf: UnsafeBufferPointer<UInt8>, start: Int, buffer: [UInt8]) {
        self.buf = buf
        self.start = start
        self.buffer = buffer
    }

    /// An object member's name, compared without decoding or allocating.
    public struct Key {
        let buf: UnsafeBufferPointer<UInt8>
        let token: JSONScanner.StringToken

            init(buf: UnsafeBufferPointer<UInt8>, token: JSONScanner.StringToken) {
            self.buf = buf
            self.token = token
        }

        public static func == (key: Key, name: StaticString) -> Bool {
            name.withUTF8Buffer { TrustedJSON.stringEquals(key.buf, key.token, $0) }
        }
    }

    /// Walks the object at `position`: `body` gets each member's name and
    /// where its value starts, and returns where the value ends if it read
    /// it, or nil to have it skipped. Returns the end of the object.
    @discardableResult
    public func object(at position: Int, _ body: (Key, Int) throws -> Int?) rethrows -> Int {
        var i = TrustedJSON.skipWhitespace(buf, position + 1)
        if buf[i] == UInt8(ascii: "}") { return i + 1 }
        while true {
            let token = TrustedJSON.stringToken(buf, at: i)
            i = TrustedJSON.skipWhitespace(buf, token.end + 1) + 1  // past ':'
            let valueStart = TrustedJSON.skipWhitespace(buf, i)
            let end = try body(Key(buf: buf, token: token), valueStart) ?? TrustedJSON.skipValue(buf, valueStart)
            i = TrustedJSON.skipWhitespace(buf, end)
            guard buf[i] == UInt8(ascii: ",") else { return i + 1 }
            i = TrustedJSON.skipWhitespace(buf, i + 1)
        }
    }

    /// Walks the array at `position` the same way. Returns its end.
    @discardableResult
    public func array(at position: Int, _ body: (Int) throws -> Int?) rethrows -> Int {
        var i = TrustedJSON.skipWhitespace(buf, position + 1)
        if buf[i] == UInt8(ascii: "]") { return i + 1 }
        while true {
            let end = try body(i) ?? TrustedJSON.skipValue(buf, i)
            i = TrustedJSON.skipWhitespace(buf, end)
            guard buf[i] == UInt8(ascii: ",") else { return i + 1 }
            i = TrustedJSON.skipWhitespace(buf, i + 1)
        }
    }

    /// The view of the value at `position` (found by skipping it once).
    public func view(at position: Int) -> JSONView {
        JSONView(trusted: buffer, range: position..<TrustedJSON.skipValue(buf, position))
    }

    /// The first byte of the value at `position`.
    public func byte(at position: Int) -> UInt8 { buf[position] }
}

extension JSONView {
    /// Walks this (checked) value in one pass; see ``JSONWalker``.
    public func walk<R>(_ body: (JSONWalker) throws -> R) rethrows -> R {
        try buffer.withUnsafeBufferPointer { buf in
            try body(JSONWalker(buf: buf, start: rawRange.lowerBound, buffer: buffer))
        }
    }
}
