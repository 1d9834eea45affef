import DynamoModel
import XCTest

final class DynamoJSONReaderTests: XCTestCase {
    func testReadItem_allTypesFromText() throws {
        let text = """
            {"s":{"S":"x"},"n":{"N":"1.50"},"b":{"B":"AAEC/w=="},"t":{"BOOL":true},"f":{"BOOL":false},
             "z":{"NULL":true},"m":{"M":{"k":{"S":"v"}}},"l":{"L":[{"N":"1"},{"S":"a"}]},
             "ss":{"SS":["a","b"]},"ns":{"NS":["1","2"]},"bs":{"BS":["AQ==","AgM="]}}
            """
        let item = try DynamoJSONReader.readItem(text)
        XCTAssertEqual(item, [
            "s": .s("x"), "n": .n("1.50"), "b": .b([0, 1, 2, 255]), "t": .bool(true), "f": .bool(false),
            "z": .null, "m": .m(["k": .s("v")]), "l": .l([.n("1"), .s("a")]),
            "ss": .ss(["a", "b"]), "ns": .ns(["1", "2"]), "bs": .bs([[1], [2, 3]]),
        ])
    }

    func testReadItem_whitespaceEverywhere() throws {
        let text = " \n\t{ \"a\" :\r\n { \"L\" : [ { \"N\" : \"1\" } , { \"NULL\" : true } ] } }\n "
        XCTAssertEqual(try DynamoJSONReader.readItem(text), ["a": .l([.n("1"), .null])])
    }

    func testReadString_escapesAndSurrogatePairs() throws {
        let text = #"{"a":{"S":"\"\\\/\b\f\n\r\t\u0041\u00e9\u20AC\ud83c\udf89\u0000"}}"#
        XCTAssertEqual(try DynamoJSONReader.readItem(text)["a"], .s("\"\\/\u{8}\u{C}\n\r\tAé€🎉\u{0}"))
    }

    func testReadString_rawUnicodePassesThrough() throws {
        let text = #"{"ключ":{"S":"日本語 🎉 é"}}"#
        XCTAssertEqual(try DynamoJSONReader.readItem(text), ["ключ": .s("日本語 🎉 é")])
    }

    func testReadString_escapedTypeTagAndName() throws {
        // "\u0053" is "S": JSON says the key is the same string.
        XCTAssertEqual(try DynamoJSONReader.readItem(#"{"\u0061":{"\u0053":"x"}}"#), ["a": .s("x")])
    }

    func testReadItem_duplicateNameKeepsFirstValue() throws {
        XCTAssertEqual(try DynamoJSONReader.readItem(#"{"a":{"S":"1"},"a":{"S":"2"}}"#), ["a": .s("1")])
    }

    func testReadItem_fromSubRangeAndRawMemory() throws {
        let bytes = utf8(#"xx{"a":{"N":"1"}}yy"#)
        XCTAssertEqual(try DynamoJSONReader.readItem(bytes, range: 2..<(bytes.count - 2)), ["a": .n("1")])
        try bytes[2..<(bytes.count - 2)].withUnsafeBytes { raw in
            XCTAssertEqual(try DynamoJSONReader.readItem(raw), ["a": .n("1")])
        }
    }

    func testReadItem_rejectsEmptySets() {
        assertThrowsJSONError(.invalidItem, at: 11, "SS value must not be empty") {
            _ = try DynamoJSONReader.readItem(#"{"a":{"SS":[]}}"#)
        }
        assertThrowsJSONError(.invalidItem, at: 11, "NS value must not be empty") {
            _ = try DynamoJSONReader.readItem(#"{"a":{"NS":[ ]}}"#)
        }
        assertThrowsJSONError(.invalidItem, at: 11, "BS value must not be empty") {
            _ = try DynamoJSONReader.readItem(#"{"a":{"BS":[]}}"#)
        }
    }

    func testReadItem_rejectsNullFalse() {
        assertThrowsJSONError(.invalidItem, at: 13, "NULL value must be true") {
            _ = try DynamoJSONReader.readItem(#"{"a":{"NULL":false}}"#)
        }
    }

    func testReadItem_rejectsTwoTypeTags() {
        assertThrowsJSONError(.invalidItem, at: 13, "attribute value has more than one type tag") {
            _ = try DynamoJSONReader.readItem(#"{"a":{"S":"x","N":"1"}}"#)
        }
    }

    func testReadItem_rejectsNoTypeTag() {
        assertThrowsJSONError(.invalidItem, at: 5, "attribute value has no type tag") {
            _ = try DynamoJSONReader.readItem(#"{"a":{}}"#)
        }
    }

    func testReadItem_rejectsWrongValueTypes() {
        let cases: [(String, Int, String)] = [
            (#"{"a":{"S":1}}"#, 10, "S value must be a string"),
            (#"{"a":{"N":1}}"#, 10, "N value must be a string"),
            (#"{"a":{"B":null}}"#, 10, "B value must be a string"),
            (#"{"a":{"BOOL":"true"}}"#, 13, "BOOL value must be true or false"),
            (#"{"a":{"M":[]}}"#, 10, "M value must be an object"),
            (#"{"a":{"L":{}}}"#, 10, "L value must be an array"),
            (#"{"a":{"SS":"x"}}"#, 11, "SS value must be an array"),
            (#"{"a":{"NS":[1]}}"#, 12, "NS member must be a string"),
            (#"{"a":"x"}"#, 5, "expected an attribute value object"),
            (#"["a"]"#, 0, "expected an item object"),
        ]
        for (text, offset, reason) in cases {
            assertThrowsJSONError(.invalidItem, at: offset, reason) { _ = try DynamoJSONReader.readItem(text) }
        }
    }

    func testReadAttributeValue_alone() throws {
        XCTAssertEqual(try DynamoJSONReader.readAttributeValue(#" {"NS":["1","1e2"]} "#), .ns(["1", "1e2"]))
        assertThrowsJSONError(.invalidJSON, at: 10, "unexpected data after the value") {
            _ = try DynamoJSONReader.readAttributeValue(#"{"S":"x"} {}"#)
        }
    }

    func testReadItem_nestingLimit() throws {
        // DynamoDB allows 32 levels; the reader accepts well beyond that
        // but stops hostile input before it can exhaust a thread's stack.
        func nested(_ levels: Int) -> String {
            String(repeating: #"{"M":{"a":"#, count: levels) + #"{"NULL":true}"# + String(repeating: "}}", count: levels)
        }
        XCTAssertNoThrow(try DynamoJSONReader.readItem(#"{"x":"# + nested(40) + "}"))
        XCTAssertNoThrow(try DynamoJSONValidator.validateItem(utf8(#"{"x":"# + nested(40) + "}")))
        // Depth 129 is reached at the inner "{" of the 64th level: 5 + 63 * 10 + 5.
        assertThrowsJSONError(.invalidJSON, at: 640, "nesting too deep") {
            _ = try DynamoJSONReader.readItem(#"{"x":"# + nested(70) + "}")
        }
        assertThrowsJSONError(.invalidJSON, at: 640, "nesting too deep") {
            try DynamoJSONValidator.validateItem(utf8(#"{"x":"# + nested(70) + "}"))
        }
    }
}
