import DynamoModel
import XCTest

final class JSONValueTests: XCTestCase {
    func testParse_describeTableShape() throws {
        let body = """
            {"Table":{"TableName":"orders","TableStatus":"ACTIVE","ItemCount":12345678901234567890,
             "KeySchema":[{"AttributeName":"pk","KeyType":"HASH"},{"AttributeName":"sk","KeyType":"RANGE"}],
             "StreamSpecification":{"StreamEnabled":true},"Deleted":false,"Extra":null}}
            """
        let value = try JSONValue.parse(body)
        let table = try XCTUnwrap(value["Table"])
        XCTAssertEqual(table["TableStatus"]?.stringValue, "ACTIVE")
        XCTAssertEqual(table["ItemCount"]?.numberText, "12345678901234567890", "numbers keep their text")
        XCTAssertEqual(table["KeySchema"]?[1]?["AttributeName"]?.stringValue, "sk")
        XCTAssertEqual(table["StreamSpecification"]?["StreamEnabled"]?.boolValue, true)
        XCTAssertEqual(table["Deleted"]?.boolValue, false)
        XCTAssertEqual(table["Extra"]?.isNull, true)
        XCTAssertEqual(table.members?.map(\.key),
                       ["TableName", "TableStatus", "ItemCount", "KeySchema", "StreamSpecification", "Deleted", "Extra"])
        XCTAssertNil(table["KeySchema"]?[2])
        XCTAssertNil(table["TableName"]?["x"])
    }

    func testWriteThenParse_roundTripsAndKeepsMemberOrder() throws {
        let value: JSONValue = .object([
            ("z", .string("last \"first\"\n")), ("a", .array([.number("-1.5e-3"), .bool(true), .null, .object([])])),
            ("m", .object([("k", .array([]))])), ("u", .string("日本 🎉")),
        ])
        XCTAssertEqual(value.jsonText, #"{"z":"last \"first\"\n","a":[-1.5e-3,true,null,{}],"m":{"k":[]},"u":"日本 🎉"}"#)
        XCTAssertEqual(try JSONValue.parse(value.serialized()), value)
        XCTAssertNotEqual(value, .object([("a", .null)]))
    }

    func testErrorBody_typeAndMessage() throws {
        let body = #"{"__type":"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException","message":"Requested resource not found"}"#
        let value = try JSONValue.parse(body)
        XCTAssertEqual(value["__type"]?.stringValue?.split(separator: "#").last, "ResourceNotFoundException")
        XCTAssertEqual(value["message"]?.stringValue, "Requested resource not found")
    }

    func testDynamoItemConversions() throws {
        let item: Item = ["pk": .s("a"), "n": .n("1.0"), "b": .b([1, 2])]
        let json = JSONValue(dynamoItem: item)
        XCTAssertEqual(json["n"]?["N"]?.stringValue, "1.0")
        XCTAssertEqual(try json.dynamoItem(), item)
        assertThrowsJSONError(.invalidItem, at: 0, "expected an item object") {
            _ = try JSONValue.array([]).dynamoItem()
        }
    }

    func testParse_fromRawMemoryAndRange() throws {
        let bytes = utf8("xx[1, 2]yy")
        XCTAssertEqual(try JSONValue.parse(bytes, range: 2..<8), .array([.number("1"), .number("2")]))
        try bytes[2..<8].withUnsafeBytes { raw in
            XCTAssertEqual(try JSONValue.parse(raw), .array([.number("1"), .number("2")]))
        }
    }
}
