import DynamoModel
import XCTest

final class DynamoJSONValidatorTests: XCTestCase {
    private let valid = #"{"id":{"S":"k1"},"sk":{"N":"7"},"b":{"B":"AAE="},"m":{"M":{"x":{"L":[{"NULL":true},{"BOOL":false}]}}},"ss":{"SS":["a"]},"ns":{"NS":["1.5"]},"bs":{"BS":["AQ=="]}}"#

    func testValidItem_passes() throws {
        XCTAssertEqual(try DynamoJSONValidator.validateItem(utf8(valid)), [:])
        try utf8(valid).withUnsafeBytes { XCTAssertEqual(try DynamoJSONValidator.validateItem($0), [:]) }
        XCTAssertNoThrow(try DynamoJSONValidator.validateItem(utf8("{}")))
        XCTAssertNoThrow(try DynamoJSONValidator.validateAttributeValue(utf8(#"{"L":[]}"#)))
    }

    func testDecodingSelectedAttributes_returnsOnlyThose() throws {
        let decoded = try DynamoJSONValidator.validateItem(utf8(valid), decoding: ["sk", "id", "absent"])
        XCTAssertEqual(decoded, ["id": .s("k1"), "sk": .n("7")])
    }

    func testDecodingSelectedAttributes_stillValidatesTheRest() {
        assertThrowsJSONError(.invalidItem, at: 25, "invalid base64") {
            _ = try DynamoJSONValidator.validateItem(utf8(#"{"id":{"S":"k"},"x":{"B":"!!!!"}}"#), decoding: ["id"])
        }
    }

    func testRejects_badTypeTags() {
        assertThrowsJSONError(.invalidItem, at: 6, "unknown type tag") {
            try DynamoJSONValidator.validateItem(utf8(#"{"a":{"X":"1"}}"#))
        }
        assertThrowsJSONError(.invalidItem, at: 6, "unknown type tag") {
            try DynamoJSONValidator.validateItem(utf8(#"{"a":{"s":"1"}}"#))
        }
        assertThrowsJSONError(.invalidItem, at: 6, "unknown type tag") {
            try DynamoJSONValidator.validateItem(utf8(#"{"a":{"STRING":"1"}}"#))
        }
        assertThrowsJSONError(.invalidItem, at: 22, "unknown type tag") {
            try DynamoJSONValidator.validateItem(utf8(#"{"a":{"M":{"b":{"L":[{"Q":1}]}}}}"#))
        }
    }

    func testRejects_badNumbers() {
        for bad in ["", "abc", "1.2.3", "1e126", String(repeating: "1", count: 39), " 1"] {
            assertThrowsJSONError(.invalidItem, at: 10, "invalid number") {
                try DynamoJSONValidator.validateItem(utf8(#"{"a":{"N":"\#(bad)"}}"#))
            }
        }
        assertThrowsJSONError(.invalidItem, at: 16, "invalid number") {
            try DynamoJSONValidator.validateItem(utf8(#"{"a":{"NS":["1","1..2"]}}"#))
        }
    }

    func testRejects_badBase64() {
        for bad in ["A", "AB=", "A===", "AB?=", "AB==AB=="] {
            assertThrowsJSONError(.invalidItem, at: 10, "invalid base64") {
                try DynamoJSONValidator.validateItem(utf8(#"{"a":{"B":"\#(bad)"}}"#))
            }
        }
        assertThrowsJSONError(.invalidItem, at: 19, "invalid base64") {
            try DynamoJSONValidator.validateItem(utf8(#"{"a":{"BS":["AA==","AA"]}}"#))
        }
    }

    func testAccepts_escapedSlashInBase64() throws {
        // Some encoders write "/" as "\/"; it is the same JSON string.
        let item = try DynamoJSONReader.readItem(#"{"a":{"B":"\/w=="}}"#)
        XCTAssertEqual(item["a"], .b([0xFF]))
        XCTAssertNoThrow(try DynamoJSONValidator.validateItem(utf8(#"{"a":{"B":"\/w=="}}"#)))
    }

    func testRejects_structuralMistakes() {
        assertThrowsJSONError(.invalidItem, at: 13, "attribute value has more than one type tag") {
            try DynamoJSONValidator.validateItem(utf8(#"{"a":{"S":"x","S":"y"}}"#))
        }
        assertThrowsJSONError(.invalidItem, at: 11, "SS value must not be empty") {
            try DynamoJSONValidator.validateItem(utf8(#"{"a":{"SS":[]}}"#))
        }
        assertThrowsJSONError(.invalidItem, at: 13, "NULL value must be true") {
            try DynamoJSONValidator.validateItem(utf8(#"{"a":{"NULL":false}}"#))
        }
        assertThrowsJSONError(.invalidItem, at: 0, "expected an item object") {
            try DynamoJSONValidator.validateItem(utf8("[]"))
        }
        assertThrowsJSONError(.invalidJSON, at: 12, "unterminated string") {
            try DynamoJSONValidator.validateItem(utf8(#"{"a":{"S":"x"#))
        }
        assertThrowsJSONError(.invalidJSON, at: 16, "unexpected data after the value") {
            try DynamoJSONValidator.validateItem(utf8(#"{"a":{"S":"x"}} {"#))
        }
    }

    func testOffsetsCountFromTheBufferStart() {
        let bytes = utf8(#"{"Item":{"a":{"N":"x"}}}"#)
        assertThrowsJSONError(.invalidItem, at: 18, "invalid number") {
            try DynamoJSONValidator.validateItem(bytes, range: 8..<23)
        }
    }
}
