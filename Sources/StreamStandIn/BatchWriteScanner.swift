import Glibc

/// One pass over a BatchWriteItem body that ``JSONView`` has already
/// validated: it finds each write's element, its item (or key) and the
/// key attributes' values without walking any byte twice, where lookups
/// through `JSONView` would skip every item once per level.
///
/// It handles the shape every client sends: `{"RequestItems": {"<table>":
/// [{"PutRequest": {"Item": {...}}}, {"DeleteRequest": {"Key": {...}}}]}}`
/// with any other top-level members, and names without escapes. For
/// anything else it returns nil and the caller takes the general path,
/// which also words the errors.
struct BatchWriteScanner {
    struct Write {
        /// The whole `{"PutRequest": …}` element.
        let element: Range<Int>
        let isPut: Bool
        /// The item of a put, the key of a delete.
        let value: Range<Int>
        /// Value ranges of the partition and sort key attributes, if present.
        let partitionKey: Range<Int>?
        let sortKey: Range<Int>?
        /// Top-level attributes of `value`.
        let memberCount: Int
    }

    struct Group {
        let table: String
        let spec: StandInTableSpec
        var writes: [Write]
    }

    private let p: UnsafeBufferPointer<UInt8>

    /// - Parameter spec: the spec of a table named in the request; may throw
    ///   (unknown table).
    static func scan(
        _ buffer: [UInt8], range: Range<Int>, spec: (String) throws(ServiceError) -> StandInTableSpec
    ) throws(ServiceError) -> [Group]? {
        try buffer.withUnsafeBufferPointer { pointer throws(ServiceError) -> [Group]? in
            try BatchWriteScanner(p: pointer).request(at: range.lowerBound, spec: spec)
        }
    }

    private func request(at start: Int, spec: (String) throws(ServiceError) -> StandInTableSpec) throws(ServiceError) -> [Group]? {
        var groups: [Group]?
        var i = ws(start)
        guard p[i] == UInt8(ascii: "{") else { return nil }
        i = ws(i + 1)
        if p[i] == UInt8(ascii: "}") { return nil }
        while true {
            guard let key = string(at: i) else { return nil }
            let value = ws(ws(key.end) + 1)
            if equals(key.content, "RequestItems") {
                guard groups == nil, p[value] == UInt8(ascii: "{"),
                      let (found, end) = try requestItems(at: value, spec: spec) else { return nil }
                groups = found
                i = ws(end)
            } else {
                i = ws(skipValue(value))
            }
            guard p[i] == UInt8(ascii: ",") else { break }
            i = ws(i + 1)
        }
        return groups
    }

    private func requestItems(
        at start: Int, spec: (String) throws(ServiceError) -> StandInTableSpec
    ) throws(ServiceError) -> ([Group], Int)? {
        var groups: [Group] = []
        var i = ws(start + 1)
        if p[i] == UInt8(ascii: "}") { return nil }
        while true {
            guard let name = string(at: i) else { return nil }
            let table = String(decoding: UnsafeBufferPointer(rebasing: p[name.content]), as: UTF8.self)
            let tableSpec = try spec(table)
            i = ws(ws(name.end) + 1)
            guard p[i] == UInt8(ascii: "[") else { return nil }
            var group = Group(table: table, spec: tableSpec, writes: [])
            let names = KeyNames(tableSpec)
            i = ws(i + 1)
            if p[i] != UInt8(ascii: "]") {
                while true {
                    guard let (write, end) = element(at: i, names) else { return nil }
                    group.writes.append(write)
                    i = ws(end)
                    guard p[i] == UInt8(ascii: ",") else { break }
                    i = ws(i + 1)
                }
            }
            guard p[i] == UInt8(ascii: "]") else { return nil }
            groups.append(group)
            i = ws(i + 1)
            guard p[i] == UInt8(ascii: ",") else { break }
            i = ws(i + 1)
        }
        return p[i] == UInt8(ascii: "}") ? (groups, i + 1) : nil
    }

    private struct KeyNames {
        let partition: [UInt8]
        let sort: [UInt8]?

        init(_ spec: StandInTableSpec) {
            partition = Array(spec.partitionKey.utf8)
            sort = spec.sortKey.map { Array($0.utf8) }
        }
    }

    /// `{"PutRequest":{"Item":{…}}}` or `{"DeleteRequest":{"Key":{…}}}` at `start`.
    private func element(at start: Int, _ names: KeyNames) -> (Write, Int)? {
        guard p[start] == UInt8(ascii: "{") else { return nil }
        guard let kind = string(at: ws(start + 1)) else { return nil }
        let isPut: Bool
        if equals(kind.content, "PutRequest") {
            isPut = true
        } else if equals(kind.content, "DeleteRequest") {
            isPut = false
        } else {
            return nil
        }
        var i = ws(ws(kind.end) + 1)
        guard p[i] == UInt8(ascii: "{"), let field = string(at: ws(i + 1)),
              equals(field.content, isPut ? "Item" : "Key") else { return nil }
        i = ws(ws(field.end) + 1)
        guard p[i] == UInt8(ascii: "{") else { return nil }

        let valueStart = i
        var partitionKey: Range<Int>?
        var sortKey: Range<Int>?
        var members = 0
        i = ws(i + 1)
        if p[i] != UInt8(ascii: "}") {
            while true {
                guard let attribute = string(at: i) else { return nil }
                let value = ws(ws(attribute.end) + 1)
                let end = skipValue(value)
                members += 1
                if partitionKey == nil, equals(attribute.content, names.partition) {
                    partitionKey = value..<end
                } else if let sort = names.sort, sortKey == nil, equals(attribute.content, sort) {
                    sortKey = value..<end
                }
                i = ws(end)
                guard p[i] == UInt8(ascii: ",") else { break }
                i = ws(i + 1)
            }
        }
        let valueEnd = i + 1
        // Only `}` `}` may follow: another member in either object takes the general path.
        i = ws(valueEnd)
        guard p[i] == UInt8(ascii: "}") else { return nil }
        i = ws(i + 1)
        guard p[i] == UInt8(ascii: "}") else { return nil }
        let write = Write(element: start..<(i + 1), isPut: isPut, value: valueStart..<valueEnd,
                          partitionKey: partitionKey, sortKey: sortKey, memberCount: members)
        return (write, i + 1)
    }

    // MARK: - Trusted JSON steps

    @inline(__always)
    private func ws(_ start: Int) -> Int {
        var i = start
        while i < p.count {
            let b = p[i]
            guard b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 else { break }
            i += 1
        }
        return i
    }

    /// The string at `i`: its content range and the index past its closing
    /// quote; nil if it is not a string or holds escapes (names are compared
    /// as raw bytes).
    private func string(at i: Int) -> (content: Range<Int>, end: Int)? {
        guard i < p.count, p[i] == UInt8(ascii: "\"") else { return nil }
        var j = i + 1
        while p[j] != UInt8(ascii: "\"") {
            if p[j] == UInt8(ascii: "\\") { return nil }
            j += 1
        }
        return (i + 1..<j, j + 1)
    }

    private func equals(_ range: Range<Int>, _ literal: StaticString) -> Bool {
        guard range.count == literal.utf8CodeUnitCount else { return false }
        return memcmp(p.baseAddress! + range.lowerBound, literal.utf8Start, range.count) == 0
    }

    private func equals(_ range: Range<Int>, _ bytes: [UInt8]) -> Bool {
        guard range.count == bytes.count else { return false }
        return bytes.withUnsafeBufferPointer { memcmp(p.baseAddress! + range.lowerBound, $0.baseAddress!, range.count) == 0 }
    }

    /// The index just past the value starting at `i`.
    private func skipValue(_ i: Int) -> Int {
        switch p[i] {
        case UInt8(ascii: "\""):
            return skipString(i)
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            var depth = 0
            var j = i
            while true {
                let b = p[j]
                if b == UInt8(ascii: "\"") {
                    j = skipString(j)
                    continue
                }
                if b == UInt8(ascii: "{") || b == UInt8(ascii: "[") {
                    depth += 1
                } else if b == UInt8(ascii: "}") || b == UInt8(ascii: "]") {
                    depth -= 1
                    if depth == 0 { return j + 1 }
                }
                j += 1
            }
        default:
            var j = i + 1
            while j < p.count {
                let b = p[j]
                if b == UInt8(ascii: ",") || b == UInt8(ascii: "}") || b == UInt8(ascii: "]")
                    || b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 { break }
                j += 1
            }
            return j
        }
    }

    /// Past the closing quote of the string whose opening quote is at `i`.
    @inline(__always)
    private func skipString(_ i: Int) -> Int {
        var j = i + 1
        while true {
            let b = p[j]
            if b == UInt8(ascii: "\"") { return j + 1 }
            j += b == UInt8(ascii: "\\") ? 2 : 1
        }
    }
}
