import Foundation

/// The same DynamoDB JSON decoded the Foundation way, for comparison: what
/// a straightforward Swift port of the usual scripts would do.
indirect enum CodableAttribute: Decodable {
    case s(String), n(String), b(String), bool(Bool), null, m([String: CodableAttribute]), l([CodableAttribute])
    case ss([String]), ns([String]), bs([String])

    private enum Key: String, CodingKey { case S, N, B, BOOL, NULL, M, L, SS, NS, BS }

    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        guard let key = c.allKeys.first else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "no type"))
        }
        switch key {
        case .S: self = .s(try c.decode(String.self, forKey: key))
        case .N: self = .n(try c.decode(String.self, forKey: key))
        case .B: self = .b(try c.decode(String.self, forKey: key))
        case .BOOL: self = .bool(try c.decode(Bool.self, forKey: key))
        case .NULL: self = .null
        case .M: self = .m(try c.decode([String: CodableAttribute].self, forKey: key))
        case .L: self = .l(try c.decode([CodableAttribute].self, forKey: key))
        case .SS: self = .ss(try c.decode([String].self, forKey: key))
        case .NS: self = .ns(try c.decode([String].self, forKey: key))
        case .BS: self = .bs(try c.decode([String].self, forKey: key))
        }
    }
}
