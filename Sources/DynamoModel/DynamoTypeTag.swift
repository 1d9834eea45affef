/// The type tags of DynamoDB JSON (`{"S": ...}`), matched on raw bytes so
/// that reading a tag never builds a `String`.
enum DynamoTypeTag {
    case s, n, b, bool, null, m, l, ss, ns, bs

    /// The tag spelled by `utf8`, or `nil` for anything else (tags are case-sensitive).
    init?(_ utf8: UnsafeBufferPointer<UInt8>) {
        switch utf8.count {
        case 1:
            switch utf8[0] {
            case UInt8(ascii: "S"): self = .s
            case UInt8(ascii: "N"): self = .n
            case UInt8(ascii: "B"): self = .b
            case UInt8(ascii: "M"): self = .m
            case UInt8(ascii: "L"): self = .l
            default: return nil
            }
        case 2:
            guard utf8[1] == UInt8(ascii: "S") else { return nil }
            switch utf8[0] {
            case UInt8(ascii: "S"): self = .ss
            case UInt8(ascii: "N"): self = .ns
            case UInt8(ascii: "B"): self = .bs
            default: return nil
            }
        case 4:
            if utf8[0] == UInt8(ascii: "B"), utf8[1] == UInt8(ascii: "O"),
               utf8[2] == UInt8(ascii: "O"), utf8[3] == UInt8(ascii: "L") {
                self = .bool
            } else if utf8[0] == UInt8(ascii: "N"), utf8[1] == UInt8(ascii: "U"),
                      utf8[2] == UInt8(ascii: "L"), utf8[3] == UInt8(ascii: "L") {
                self = .null
            } else {
                return nil
            }
        default:
            return nil
        }
    }
}
