import DynamoModel
import XCTest

/// Malformed JSON must be reported at the byte where it goes wrong, with a
/// short reason and never the input.
final class JSONErrorOffsetTests: XCTestCase {
    private func assertSyntaxError(
        _ text: String, at offset: Int, _ reason: String, file: StaticString = #filePath, line: UInt = #line
    ) {
        assertThrowsJSONError(.invalidJSON, at: offset, reason, file: file, line: line) {
            _ = try JSONValue.parse(text)
        }
        // Every entry point shares the tokenizer, so the item reader agrees.
        assertThrowsJSONError(.invalidJSON, at: offset, reason, file: file, line: line) {
            _ = try JSONView(text)
        }
    }

    func testMissingColon() {
        assertSyntaxError(#"{"a" 1}"#, at: 5, "expected ':'")
        assertSyntaxError(#"{"eventName" "INSERT", "x": 1}"#, at: 13, "expected ':'")
    }

    func testMissingCommaOrBrace() {
        assertSyntaxError(#"{"a":1 "b":2}"#, at: 7, "expected ',' or '}'")
        assertSyntaxError("[1 2]", at: 3, "expected ',' or ']'")
    }

    func testTrailingCommas() {
        assertSyntaxError(#"{"a":1,}"#, at: 7, "expected a string key")
        assertSyntaxError("[1,]", at: 3, "expected a value")
    }

    func testUnexpectedEnd() {
        assertSyntaxError(#"{"a":"#, at: 5, "unexpected end of input")
        assertSyntaxError(#"{"a":1"#, at: 6, "unexpected end of input")
        assertSyntaxError("", at: 0, "unexpected end of input")
        assertSyntaxError("   ", at: 3, "unexpected end of input")
    }

    func testUnterminatedString() {
        assertSyntaxError(#"{"abc"#, at: 5, "unterminated string")
        assertSyntaxError(#"["a\"#, at: 4, "unterminated string")
    }

    func testBadEscapes() {
        assertSyntaxError(#"["ab\x"]"#, at: 4, "invalid escape")
        assertSyntaxError(#"["\u12G4"]"#, at: 2, "invalid \\u escape")
        assertSyntaxError(#"["\u12"]"#, at: 2, "invalid \\u escape")
    }

    func testUnpairedSurrogates() {
        assertSyntaxError(#"["x\ud83c"]"#, at: 3, "unpaired surrogate in \\u escape")
        assertSyntaxError(#"["\ud83c\u0041"]"#, at: 2, "unpaired surrogate in \\u escape")
        assertSyntaxError(#"["\udf89"]"#, at: 2, "unpaired surrogate in \\u escape")
    }

    func testControlCharacterInString() {
        assertSyntaxError("[\"a\nb\"]", at: 3, "control character in string")
        assertSyntaxError("[\"\t\"]", at: 2, "control character in string")
    }

    func testInvalidUTF8() {
        let cases: [[UInt8]] = [
            [0x80],              // lone continuation byte
            [0xC0, 0xAF],        // overlong
            [0xE0, 0x80, 0x80],  // overlong
            [0xED, 0xA0, 0x80],  // UTF-16 surrogate
            [0xF4, 0x90, 0x80, 0x80],  // above U+10FFFF
            [0xE2, 0x82],        // truncated
            [0xFF],
        ]
        for bad in cases {
            let bytes = utf8(#"["ok"#) + bad + utf8(#""]"#)
            assertThrowsJSONError(.invalidJSON, at: 4, "invalid UTF-8") { _ = try JSONValue.parse(bytes) }
        }
    }

    func testInvalidNumbers() {
        assertSyntaxError("[-]", at: 2, "invalid number")
        assertSyntaxError("[1.]", at: 3, "invalid number")
        assertSyntaxError("[1e]", at: 3, "invalid number")
        assertSyntaxError("[01]", at: 2, "expected ',' or ']'")
        assertSyntaxError("[+1]", at: 1, "expected a value")
        assertSyntaxError("[.5]", at: 1, "expected a value")
    }

    func testBadLiterals() {
        assertSyntaxError("[tru]", at: 1, "expected true or false")
        assertSyntaxError("[nul]", at: 1, "expected a value")
        assertSyntaxError("[True]", at: 1, "expected a value")
    }

    func testTrailingData() {
        assertSyntaxError("{} x", at: 3, "unexpected data after the value")
        assertSyntaxError("1 2", at: 2, "unexpected data after the value")
    }

    func testNestingLimit() {
        let deep = String(repeating: "[", count: 129) + String(repeating: "]", count: 129)
        assertSyntaxError(deep, at: 128, "nesting too deep")
        let ok = String(repeating: "[", count: 128) + String(repeating: "]", count: 128)
        XCTAssertNoThrow(try JSONValue.parse(ok))
    }

    func testOffsetsCountFromTheBufferStartWithinARange() {
        let bytes = utf8(#"prefix{"a" 1}"#)
        assertThrowsJSONError(.invalidJSON, at: 11, "expected ':'") {
            _ = try JSONView(bytes, range: 6..<bytes.count)
        }
        assertThrowsJSONError(.invalidJSON, at: 11, "expected ':'") {
            _ = try DynamoJSONReader.readItem(bytes, range: 6..<bytes.count)
        }
    }

    func testDescriptionIsShortAndHoldsNoInput() {
        do {
            _ = try DynamoJSONReader.readItem(#"{"secret-value-here" 1}"#)
            XCTFail("should throw")
        } catch {
            XCTAssertEqual("\(error)", "invalid JSON at byte 21: expected ':'")
        }
        XCTAssertEqual(
            DynamoJSONError(.invalidItem, at: 3, "invalid number").description,
            "invalid DynamoDB JSON at byte 3: invalid number")
        XCTAssertEqual(
            DynamoJSONError(.invalidKey, at: nil, "missing partition key attribute").description,
            "invalid key: missing partition key attribute")
    }
}
