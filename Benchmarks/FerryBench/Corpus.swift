import DynamoModel

/// Synthetic items like a real table's: about 400 bytes of DynamoDB JSON,
/// mixed types, a composite key.
enum Corpus {
    static func item(_ i: Int) -> Item {
        [
            "pk": .s("customer#\(100_000 + i % 50_000)"),
            "sk": .s("order#\(String(format: "%08d", i))"),
            "status": .s(i % 3 == 0 ? "SHIPPED" : "PENDING"),
            "total": .n("\(i % 997).\(i % 100)"),
            "quantity": .n(String(i % 17)),
            "express": .bool(i % 2 == 0),
            "note": .s("Side door — ünïcode"),
            "tags": .ss(["gift", "priority", "t\(i % 9)"]),
            "address": .m(["street": .s("\(i % 300) Market Street"), "city": .s("San Francisco"), "zip": .s("94105")]),
            "lines": .l([.m(["sku": .s("SKU-\(i % 1000)"), "qty": .n("1")])]),
            "thumb": .b(Array((0..<12).map { UInt8(truncatingIfNeeded: $0 &* i) })),
            "deleted": .null,
        ]
    }

    static func itemBytes(_ count: Int) -> [[UInt8]] {
        (0..<count).map { i in
            var w = DynamoJSONWriter()
            w.writeItem(item(i))
            return w.bytes
        }
    }
}
