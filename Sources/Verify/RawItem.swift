import DynamoModel

/// The canonical bytes of a key as a dictionary key, hashed in one call
/// over the bytes rather than byte by byte.
struct KeyBytes: Hashable {
    let bytes: [UInt8]

    init(_ key: ItemKey) { bytes = key.bytes }

    static func == (a: KeyBytes, b: KeyBytes) -> Bool { a.bytes == b.bytes }

    func hash(into hasher: inout Hasher) {
        bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
    }
}

/// An item as it came over the wire: where each top-level attribute's
/// value lies in the response, plus the decoded key.
///
/// Comparing two of these is the hot path of a verification: attributes
/// whose DynamoDB JSON bytes are the same are equal without being decoded;
/// only the others are decoded and compared with DynamoDB semantics
/// (``AttributeValue/semanticallyEquals(_:)``). The result is the same as
/// comparing fully decoded items, at a fraction of the allocations.
struct RawItem {
    typealias Member = JSONView.Member

    /// The response the item is in (shared, not copied).
    let buffer: [UInt8]
    /// The whole item's bytes in `buffer`.
    let range: Range<Int>
    let members: [Member]
    let key: ItemKey
    /// Indexes in `members` of the key attributes, partition key first.
    let keyMembers: (Int, Int?)

    /// Reads the attributes of the item `view` and decodes its key.
    init(_ view: JSONView, keySchema: KeySchema) throws {
        var members: [Member] = []
        members.reserveCapacity(16)
        view.forEachMember { name, value in members.append(Member(name: name, valueRange: value.rawRange)) }
        try self.init(view, members: members, keySchema: keySchema)
    }

    /// An item whose members have been found already
    /// (``JSONView/forEachObjectElement(_:)``); decodes its key.
    init(_ view: JSONView, members: [Member], keySchema: KeySchema) throws {
        guard view.kind == .object else { throw DynamoJSONError(.invalidItem, at: view.rawRange.lowerBound, "expected an item object") }
        buffer = view.buffer
        range = view.rawRange
        self.members = members
        var keyItem = Item(minimumCapacity: 2)
        var partition: Int?
        var sort: Int?
        for (index, member) in members.enumerated() {
            if member.name == keySchema.partitionKey && partition == nil {
                partition = index
            } else if member.name == keySchema.sortKey && sort == nil {
                sort = index
            } else {
                continue
            }
            keyItem[member.name] = try DynamoJSONReader.readAttributeValue(view.buffer, range: member.valueRange)
        }
        key = try keySchema.key(of: keyItem)
        keyMembers = (partition ?? 0, sort)
    }

    /// Writes `{"pk":…,"sk":…}` with the key values' bytes as they came.
    func writeKey(into w: inout DynamoJSONWriter) {
        w.beginObject()
        w.writeKey(members[keyMembers.0].name)
        w.writeRawValue(buffer[members[keyMembers.0].valueRange])
        if let sort = keyMembers.1 {
            w.writeKey(members[sort].name)
            w.writeRawValue(buffer[members[sort].valueRange])
        }
        w.endObject()
    }

    /// The whole item, decoded (and so checked against the DynamoDB JSON rules).
    func decoded() throws -> Item {
        try DynamoJSONReader.readItem(buffer, range: range)
    }

    /// Whether `other` holds the same attributes with values that are the
    /// same to DynamoDB.
    func semanticallyEquals(_ other: RawItem) throws -> Bool {
        guard members.count == other.members.count else { return false }
        for (i, member) in members.enumerated() {
            // Replicas usually keep the attribute order; look there first.
            let match: Member
            if i < other.members.count && other.members[i].name == member.name {
                match = other.members[i]
            } else if let found = other.members.first(where: { $0.name == member.name }) {
                match = found
            } else {
                return false
            }
            if Self.sameBytes(buffer, member.valueRange, other.buffer, match.valueRange) { continue }
            let mine = try DynamoJSONReader.readAttributeValue(buffer, range: member.valueRange)
            let theirs = try DynamoJSONReader.readAttributeValue(other.buffer, range: match.valueRange)
            if !Self.sameSetMembers(mine, theirs) && !mine.semanticallyEquals(theirs) { return false }
        }
        return true
    }

    /// Whether two small sets of one type hold members with the same
    /// bytes, in any order: the common case of a replica that orders sets
    /// its own way, checked without the hashing and allocations of
    /// ``AttributeValue/semanticallyEquals(_:)``. A false answer only means
    /// "ask the full comparison".
    static func sameSetMembers(_ a: AttributeValue, _ b: AttributeValue) -> Bool {
        func same(_ x: [String], _ y: [String]) -> Bool {
            guard x.count == y.count, x.count <= 32 else { return false }
            func contained(_ p: [String], in q: [String]) -> Bool {
                p.allSatisfy { member in q.contains { $0.utf8.count == member.utf8.count && $0.utf8.elementsEqual(member.utf8) } }
            }
            return contained(x, in: y) && contained(y, in: x)
        }
        switch (a, b) {
        case (.ss(let x), .ss(let y)), (.ns(let x), .ns(let y)):
            return same(x, y)
        case (.bs(let x), .bs(let y)):
            guard x.count == y.count, x.count <= 32 else { return false }
            return x.allSatisfy { y.contains($0) } && y.allSatisfy { x.contains($0) }
        default:
            return false
        }
    }

    static func sameBytes(_ a: [UInt8], _ ra: Range<Int>, _ b: [UInt8], _ rb: Range<Int>) -> Bool {
        guard ra.count == rb.count else { return false }
        return a.withUnsafeBytes { pa in
            b.withUnsafeBytes { pb in
                memcmp(pa.baseAddress! + ra.lowerBound, pb.baseAddress! + rb.lowerBound, ra.count) == 0
            }
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
