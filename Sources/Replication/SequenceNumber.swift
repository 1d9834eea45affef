#if canImport(Glibc)
import Glibc
#endif

/// A DynamoDB Streams sequence number: an opaque decimal string of up to
/// 40 digits. Ordering is numeric, so "9" < "10" even though it is not as
/// text; leading zeros do not count.
public struct SequenceNumber: Sendable, Hashable, Comparable, CustomStringConvertible, Codable {
    /// The digits without leading zeros ("0" for zero).
    public let digits: String

    /// nil unless `text` is 1 to 40 ASCII digits... plus leading zeros.
    public init?(_ text: some StringProtocol) {
        guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return nil }
        let trimmed = text.drop { $0 == "0" }
        guard trimmed.utf8.count <= 40 else { return nil }
        digits = trimmed.isEmpty ? "0" : String(trimmed)
    }

    public var description: String { digits }

    public static func < (a: SequenceNumber, b: SequenceNumber) -> Bool {
        let la = a.digits.utf8.count, lb = b.digits.utf8.count
        if la != lb { return la < lb }
        // Same length, no leading zeros: byte order is numeric order.
        // memcmp on the UTF-8 storage (the generic path costs ~10x more,
        // and watermarks compare on every record).
        if let result = a.digits.utf8.withContiguousStorageIfAvailable({ pa in
            b.digits.utf8.withContiguousStorageIfAvailable { pb in memcmp(pa.baseAddress!, pb.baseAddress!, la) < 0 }
        }), let ordered = result {
            return ordered
        }
        return a.digits.utf8.lexicographicallyPrecedes(b.digits.utf8)
    }

    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let value = SequenceNumber(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                                                    debugDescription: "'\(text.prefix(50))' is not a sequence number"))
        }
        self = value
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(digits)
    }
}
