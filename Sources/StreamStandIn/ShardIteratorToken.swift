import DynamoModel

/// What a shard iterator encodes: which shard, where in it, when it was
/// issued, and a serial number by which a test can expire this one iterator.
/// On the wire it is opaque: the stream ARN, then base64 of the fields
/// and a check value, as DynamoDB's iterators are an ARN and a blob.
struct ShardIteratorToken: Equatable {
    let serial: Int
    let shardID: String
    /// Absolute index of the next record to return.
    let position: Int
    /// Milliseconds since 1970 (the stand-in's clock).
    let issuedMillis: Int64

    var issued: Double { Double(issuedMillis) / 1000 }

    func encode(streamArn: String) -> String {
        let fields = "\(serial)|\(shardID)|\(position)|\(issuedMillis)"
        return streamArn + "|1|" + Base64.encode(Array("\(fields)|\(Self.check(fields))".utf8))
    }

    /// nil for anything this stand-in did not issue.
    init?(decoding text: String) {
        guard let bar = text.lastIndex(of: "|"),
              let bytes = Base64.decode(String(text[text.index(after: bar)...]))
        else { return nil }
        let parts = String(decoding: bytes, as: UTF8.self).split(separator: "|", omittingEmptySubsequences: false)
        guard parts.count == 5,
              let serial = Int(parts[0]), let position = Int(parts[2]), let issued = Int64(parts[3]),
              parts[4] == Self.check(parts[0..<4].joined(separator: "|"))
        else { return nil }
        self.init(serial: serial, shardID: String(parts[1]), position: position, issuedMillis: issued)
    }

    init(serial: Int, shardID: String, position: Int, issuedMillis: Int64) {
        self.serial = serial
        self.shardID = shardID
        self.position = position
        self.issuedMillis = issuedMillis
    }

    /// FNV-1a of the fields in hex: catches iterators edited by hand.
    private static func check(_ fields: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in fields.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return String(hash, radix: 16)
    }
}
