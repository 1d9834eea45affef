/// Arrays of objects in one walk: the items of a Scan page or of a
/// BatchGetItem response, each with its attributes' positions.
extension JSONView {
    /// One member of an object: its decoded name and where its value lies
    /// in the view's buffer.
    public struct Member: Sendable {
        public var name: String
        public var valueRange: Range<Int>

        public init(name: String, valueRange: Range<Int>) {
            self.name = name
            self.valueRange = valueRange
        }
    }

    /// Calls `body` with each element of this array and, for an object
    /// element, its members in document order (an empty list for any other
    /// element). Every value is skipped once: the element's end is where
    /// its last member ends, where ``forEachElement(_:)`` followed by
    /// ``forEachMember(_:)`` would skip each element twice.
    public func forEachObjectElement(_ body: (_ element: JSONView, _ members: [Member]) throws -> Void) rethrows {
        guard kind == .array else { return }
        try buffer.withUnsafeBufferPointer { buf in
            _ = try walkObjectElements(buf, JSONScanner(buf, range: rawRange), from: rawRange.lowerBound, body)
        }
    }

    /// Walks the array at `start`; returns the position past it.
    fileprivate func walkObjectElements(
        _ buf: UnsafeBufferPointer<UInt8>, _ scanner: JSONScanner, from start: Int, _ body: (JSONView, [Member]) throws -> Void
    ) rethrows -> Int {
        var i = TrustedJSON.skipWhitespace(buf, start + 1)
        if buf[i] == UInt8(ascii: "]") { return i + 1 }
        while true {
            let elementStart = i
            var members: [Member] = []
            if buf[i] == UInt8(ascii: "{") {
                members.reserveCapacity(16)
                i = TrustedJSON.skipWhitespace(buf, i + 1)
                if buf[i] != UInt8(ascii: "}") {
                    while true {
                        let key = TrustedJSON.stringToken(buf, at: i)
                        i = TrustedJSON.skipWhitespace(buf, key.end + 1) + 1  // past ':'
                        let valueStart = TrustedJSON.skipWhitespace(buf, i)
                        let valueEnd = TrustedJSON.skipValue(buf, valueStart)
                        members.append(Member(name: scanner.makeString(key), valueRange: valueStart..<valueEnd))
                        i = TrustedJSON.skipWhitespace(buf, valueEnd)
                        guard buf[i] == UInt8(ascii: ",") else { break }
                        i = TrustedJSON.skipWhitespace(buf, i + 1)
                    }
                }
                i += 1  // past '}'
            } else {
                i = TrustedJSON.skipValue(buf, i)
            }
            try body(JSONView(trusted: buffer, range: elementStart..<i), members)
            i = TrustedJSON.skipWhitespace(buf, i)
            guard buf[i] == UInt8(ascii: ",") else { return i + 1 }  // past ']'
            i = TrustedJSON.skipWhitespace(buf, i + 1)
        }
    }
}

extension JSONView {
    /// Walks this object once, calling `member` with each top-level member
    /// except the one on `path`, and `element` with each element (and its
    /// members) of the array at `path`, a list of member names from this
    /// object down (`["Items"]` for a Scan page, `["Responses", table]` for
    /// a BatchGetItem response). The objects on the path and the array are
    /// never skipped as a whole, so every value is skipped once; a lookup
    /// by ``subscript(_:)-(String)`` followed by ``forEachObjectElement(_:)``
    /// skips the array twice. A path that is absent or ends at something
    /// other than an array calls `element` never.
    public func forEachMember(
        expanding path: [String], member: (_ name: String, _ value: JSONView) throws -> Void,
        element: (_ element: JSONView, _ members: [Member]) throws -> Void
    ) rethrows {
        guard kind == .object, !path.isEmpty else { return }
        try buffer.withUnsafeBufferPointer { buf in
            let scanner = JSONScanner(buf, range: rawRange)
            _ = try walkObject(buf, scanner, at: rawRange.lowerBound, path: path[...], member: member, element: element)
        }
    }

    /// Walks the object at `start` down `path`; returns the position past it.
    private func walkObject(
        _ buf: UnsafeBufferPointer<UInt8>, _ scanner: JSONScanner, at start: Int, path: ArraySlice<String>,
        member: (String, JSONView) throws -> Void, element: (JSONView, [Member]) throws -> Void
    ) rethrows -> Int {
        var i = TrustedJSON.skipWhitespace(buf, start + 1)
        if buf[i] == UInt8(ascii: "}") { return i + 1 }
        let topLevel = start == rawRange.lowerBound
        while true {
            let key = TrustedJSON.stringToken(buf, at: i)
            i = TrustedJSON.skipWhitespace(buf, key.end + 1) + 1  // past ':'
            let valueStart = TrustedJSON.skipWhitespace(buf, i)
            let valueEnd: Int
            var wanted = path.first!
            let onPath = wanted.withUTF8 { scanner.stringEquals(key, $0) }
            if onPath && path.count > 1 && buf[valueStart] == UInt8(ascii: "{") {
                valueEnd = try walkObject(buf, scanner, at: valueStart, path: path.dropFirst(), member: member, element: element)
            } else if onPath && path.count == 1 && buf[valueStart] == UInt8(ascii: "[") {
                valueEnd = try walkObjectElements(buf, scanner, from: valueStart, element)
            } else {
                valueEnd = TrustedJSON.skipValue(buf, valueStart)
                if topLevel {
                    try member(scanner.makeString(key), JSONView(trusted: buffer, range: valueStart..<valueEnd))
                }
            }
            i = TrustedJSON.skipWhitespace(buf, valueEnd)
            guard buf[i] == UInt8(ascii: ",") else { return i + 1 }  // past '}'
            i = TrustedJSON.skipWhitespace(buf, i + 1)
        }
    }
}
