/// The primary key of one item, with a canonical byte form.
///
/// Equality and hashing use only ``bytes``, which are the same for the
/// same key whatever the attribute order or number spelling (`1.50` and
/// `1.5` are one key, as in DynamoDB). Use it as a dictionary key to
/// coalesce changes, and ``lane(count:)`` to route every change of one key
/// to the same writer lane.
public struct ItemKey: Sendable, Hashable {
    /// The key attributes as decoded.
    public let attributes: Item

    /// The canonical encoding: for the partition key, then the sort key,
    /// one type byte (`S`, `N` or `B`), the value's length as 4 bytes big
    /// endian, then the value: UTF-8 for `S`, the canonical form of
    /// ``DynamoNumber/normalize(_:)`` for `N`, the raw bytes for `B`.
    /// Attribute names are not included: the schema fixes them.
    public let bytes: [UInt8]

    /// A hash of ``bytes`` that is the same in every process and on every
    /// host (64-bit FNV-1a), unlike `hashValue`, which Swift seeds per
    /// process. Computed once: it picks the lane and serves as the hash in
    /// a batch's dictionary of keys.
    public let stableHash: UInt64

    public init(attributes: Item, bytes: [UInt8]) {
        self.attributes = attributes
        self.bytes = bytes
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes {
            hash ^= UInt64(b)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        stableHash = hash
    }

    /// The lane, in `0..<count`, that every change of this key goes to.
    public func lane(count: Int) -> Int {
        precondition(count > 0, "lane count must be positive")
        return Int(stableHash % UInt64(count))
    }

    /// Same key: same canonical bytes.
    public static func == (lhs: ItemKey, rhs: ItemKey) -> Bool {
        lhs.stableHash == rhs.stableHash && lhs.bytes == rhs.bytes
    }

    /// Feeds the precomputed FNV hash of the canonical bytes (Hasher seeds
    /// it per process): one word instead of every byte through SipHash.
    public func hash(into hasher: inout Hasher) { hasher.combine(stableHash) }

    /// Appends one key attribute's canonical encoding.
    static func append(_ value: AttributeValue, role: String, offset: Int?, to out: inout [UInt8]) throws {
        let lengthAt: Int
        switch value {
        case .s(let s):
            out.append(UInt8(ascii: "S"))
            lengthAt = out.count
            out.append(contentsOf: [0, 0, 0, 0])
            out.append(contentsOf: s.utf8)
        case .n(let text):
            out.append(UInt8(ascii: "N"))
            lengthAt = out.count
            out.append(contentsOf: [0, 0, 0, 0])
            var text = text
            let valid = text.withUTF8 { utf8 -> Bool in
                guard let parts = NumberParts(utf8) else { return false }
                parts.appendCanonical(of: utf8, to: &out)
                return true
            }
            guard valid else { throw DynamoJSONError(.invalidKey, at: offset, "invalid number in \(role) key") }
        case .b(let b):
            out.append(UInt8(ascii: "B"))
            lengthAt = out.count
            out.append(contentsOf: [0, 0, 0, 0])
            out.append(contentsOf: b)
        default:
            throw DynamoJSONError(.invalidKey, at: offset, "\(role) key must be of type S, N or B")
        }
        let length = out.count - lengthAt - 4
        guard length > 0 else { throw DynamoJSONError(.invalidKey, at: offset, "\(role) key must not be empty") }
        out[lengthAt] = UInt8(truncatingIfNeeded: length >> 24)
        out[lengthAt + 1] = UInt8(truncatingIfNeeded: length >> 16)
        out[lengthAt + 2] = UInt8(truncatingIfNeeded: length >> 8)
        out[lengthAt + 3] = UInt8(truncatingIfNeeded: length)
    }
}
