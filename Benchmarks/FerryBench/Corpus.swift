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

    /// Like a real wide table's items: 10 to 50 attributes of every type
    /// (strings, decimals, Booleans, nulls, string, number and binary sets,
    /// maps, lists, binary), about 500 bytes of DynamoDB JSON on average
    /// (most items nearer 10 attributes than 50).
    static func richItem(_ i: Int) -> Item {
        var item: Item = ["pk": .s("t\(i % 5000)#\(i)")]
        // 10 to 50 attributes, most items nearer 10 than 50 (as in real tables).
        let spread = (i &* 7919) % 41
        let count = 10 + spread * spread / 40
        for a in 0..<count {
            let name = "a\(a)"
            let v = i &+ a &* 31
            switch a % 16 {
            case 0, 5, 13: item[name] = .s("v\(v % 100)")
            case 1, 4, 7: item[name] = .n("\(v % 1000)")
            case 12: item[name] = .n("\(v % 100).\(v % 97)")
            case 2: item[name] = .bool(v % 2 == 0)
            case 3, 15: item[name] = .null
            case 6: item[name] = .ss(["x\(v % 7)", "y"])
            case 8: item[name] = .ns(["\(v % 13)", "-1.5"])
            case 9: item[name] = .m(["k": .n("\(v % 9)")])
            case 10: item[name] = .l([.n("\(v % 10)"), .s("e")])
            case 11: item[name] = .b([UInt8(truncatingIfNeeded: v), 7])
            default: item[name] = .bs([[UInt8(truncatingIfNeeded: v)]])
            }
        }
        return item
    }

    static func itemBytes(_ count: Int) -> [[UInt8]] {
        (0..<count).map { i in
            var w = DynamoJSONWriter()
            w.writeItem(item(i))
            return w.bytes
        }
    }
}
