import DynamoModel
import XCTest

final class KeySchemaTests: XCTestCase {
    private let schema = KeySchema(partitionKey: "pk", sortKey: "sk")

    func testKeyBytes_stableRegardlessOfAttributeOrder() throws {
        let a = utf8(#"{"pk":{"S":"user#1"},"sk":{"N":"42"},"v":{"S":"x"}}"#)
        let b = utf8(#"{"v":{"S":"y"},"sk":{"N":"42"},"pk":{"S":"user#1"}}"#)
        let keyA = try schema.key(ofItemIn: a)
        let keyB = try schema.key(ofItemIn: b)
        XCTAssertEqual(keyA, keyB)
        XCTAssertEqual(keyA.bytes, keyB.bytes)
        XCTAssertEqual(keyA.stableHash, keyB.stableHash)
        XCTAssertEqual(keyA.attributes, ["pk": .s("user#1"), "sk": .n("42")])
        // The same key from an in-memory item with other attributes.
        let item: Item = ["sk": .n("42"), "other": .bool(true), "pk": .s("user#1")]
        XCTAssertEqual(try schema.keyBytes(of: item), keyA.bytes)
        XCTAssertEqual(try schema.keyItem(of: item), ["pk": .s("user#1"), "sk": .n("42")])
    }

    func testKeyBytes_canonicalEncoding() throws {
        let key = try schema.key(of: ["pk": .s("ab"), "sk": .n("1.50")])
        // 'S', length 2, "ab"; 'N', length 5, "15E-1".
        XCTAssertEqual(key.bytes, [0x53, 0, 0, 0, 2, 0x61, 0x62, 0x4E, 0, 0, 0, 5] + utf8("15E-1"))
        let binary = try KeySchema(partitionKey: "id").key(of: ["id": .b([0, 255])])
        XCTAssertEqual(binary.bytes, [0x42, 0, 0, 0, 2, 0, 255])
    }

    func testKeyBytes_numberSpellingsAreOneKey() throws {
        let a = try schema.key(of: ["pk": .s("a"), "sk": .n("100")])
        let b = try schema.key(of: ["pk": .s("a"), "sk": .n("1e2")])
        XCTAssertEqual(a, b)
        XCTAssertEqual(Set([a, b]).count, 1)
    }

    func testKeyBytes_distinguishTypesAndBoundaries() throws {
        let single = KeySchema(partitionKey: "id")
        XCTAssertNotEqual(try single.key(of: ["id": .s("1")]), try single.key(of: ["id": .n("1")]))
        // Length prefixes keep ("ab","c") apart from ("a","bc").
        XCTAssertNotEqual(try schema.key(of: ["pk": .s("ab"), "sk": .s("c")]),
                          try schema.key(of: ["pk": .s("a"), "sk": .s("bc")]))
    }

    func testStableHash_isFixedAcrossProcesses() throws {
        // FNV-1a 64 of the bytes; pinned so lanes never move between releases.
        let key = try KeySchema(partitionKey: "id").key(of: ["id": .s("a")])
        XCTAssertEqual(key.bytes, [0x53, 0, 0, 0, 1, 0x61])
        var expected: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in key.bytes { expected = (expected ^ UInt64(b)) &* 0x100_0000_01b3 }
        XCTAssertEqual(key.stableHash, expected)
        XCTAssertEqual(key.lane(count: 1), 0)
        XCTAssertEqual(key.lane(count: 8), Int(expected % 8))
    }

    func testLanes_spreadKeys() throws {
        let single = KeySchema(partitionKey: "id")
        var counts = [Int](repeating: 0, count: 8)
        for i in 0..<8000 { counts[try single.key(of: ["id": .s("user-\(i)")]).lane(count: 8)] += 1 }
        XCTAssertTrue(counts.allSatisfy { $0 > 800 && $0 < 1200 }, "\(counts)")
    }

    func testInvalidKeys() {
        assertThrowsJSONError(.invalidKey, at: nil, "missing partition key attribute") {
            _ = try self.schema.key(of: ["sk": .n("1")])
        }
        assertThrowsJSONError(.invalidKey, at: nil, "missing sort key attribute") {
            _ = try self.schema.key(of: ["pk": .s("a")])
        }
        assertThrowsJSONError(.invalidKey, at: nil, "partition key must be of type S, N or B") {
            _ = try self.schema.key(of: ["pk": .bool(true), "sk": .n("1")])
        }
        assertThrowsJSONError(.invalidKey, at: nil, "sort key must not be empty") {
            _ = try self.schema.key(of: ["pk": .s("a"), "sk": .s("")])
        }
        assertThrowsJSONError(.invalidKey, at: nil, "invalid number in sort key") {
            _ = try self.schema.key(of: ["pk": .s("a"), "sk": .n("x")])
        }
        let line = utf8(#"{"Item":{"sk":{"N":"1"}}}"#)
        assertThrowsJSONError(.invalidKey, at: 8, "missing partition key attribute") {
            _ = try self.schema.key(ofItemIn: line, range: 8..<(line.count - 1))
        }
    }

    func testRawKey_validatesTheWholeItem() {
        assertThrowsJSONError(.invalidItem, at: 40, "invalid number") {
            _ = try self.schema.key(ofItemIn: utf8(#"{"pk":{"S":"a"},"sk":{"N":"1"},"x":{"N":"bad"}}"#))
        }
    }
}
