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
            let scanner = JSONScanner(buf, range: rawRange)
            var i = TrustedJSON.skipWhitespace(buf, rawRange.lowerBound + 1)
            if buf[i] == UInt8(ascii: "]") { return }
            while true {
                let start = i
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
                try body(JSONView(trusted: buffer, range: start..<i), members)
                i = TrustedJSON.skipWhitespace(buf, i)
                guard buf[i] == UInt8(ascii: ",") else { return }
                i = TrustedJSON.skipWhitespace(buf, i + 1)
            }
        }
    }
}
