import DynamoModel
import XCTest

final class DynamoNumberTests: XCTestCase {
    func testNormalize_canonicalForms() {
        let cases: [(String, String)] = [
            ("0", "0"), ("-0", "0"), ("0.0", "0"), ("+0e10", "0"), ("000", "0"), (".0", "0"),
            ("1", "1"), ("+1", "1"), ("1.0", "1"), ("1.", "1"), ("001", "1"),
            ("1.50", "15E-1"), ("1.5", "15E-1"), (".15e1", "15E-1"), ("15e-1", "15E-1"),
            ("100", "1E2"), ("1e2", "1E2"), ("1E+2", "1E2"), ("0.001e5", "1E2"),
            ("-12.340", "-1234E-2"), ("120.003", "120003E-3"),
            ("12345678901234567890123456789012345678", "12345678901234567890123456789012345678"),
            ("1234567890123456789012345678901234567800000", "12345678901234567890123456789012345678E5"),
            ("0.000000000000000000000000000000000000000000000001", "1E-48"),
        ]
        for (text, canonical) in cases {
            XCTAssertEqual(DynamoNumber.normalize(text), canonical, text)
        }
    }

    func testNormalize_rejectsInvalidText() {
        for text in ["", "-", "+", ".", "e5", "1e", "1e+", "1.2.3", "1,5", " 1", "1 ", "0x10",
                     "Infinity", "NaN", "--1", "1e1.5", "١"] {
            XCTAssertNil(DynamoNumber.normalize(text), text)
            XCTAssertFalse(DynamoNumber.isValid(text), text)
        }
    }

    func testLimits_thirtyEightSignificantDigits() {
        let digits38 = String(repeating: "9", count: 38)
        XCTAssertNotNil(DynamoNumber.normalize(digits38))
        XCTAssertNil(DynamoNumber.normalize(digits38 + "9"))
        // Leading and trailing zeros do not count.
        XCTAssertNotNil(DynamoNumber.normalize("000" + digits38 + "000"))
        XCTAssertNotNil(DynamoNumber.normalize("0.000" + digits38 + "000"))
        XCTAssertNil(DynamoNumber.normalize("1." + String(repeating: "0", count: 37) + "1"))
    }

    func testLimits_magnitudeRange() {
        XCTAssertNotNil(DynamoNumber.normalize("9.9999999999999999999999999999999999999E+125"))
        XCTAssertNotNil(DynamoNumber.normalize("-9.9999999999999999999999999999999999999E+125"))
        XCTAssertNil(DynamoNumber.normalize("1E+126"))
        XCTAssertNotNil(DynamoNumber.normalize("1E-130"))
        XCTAssertNotNil(DynamoNumber.normalize("-1E-130"))
        XCTAssertNil(DynamoNumber.normalize("1E-131"))
        XCTAssertNil(DynamoNumber.normalize("0.1E-130"))
        XCTAssertNotNil(DynamoNumber.normalize("10E-131"))
        XCTAssertNil(DynamoNumber.normalize("1e99999999999999999999999"))
        XCTAssertEqual(DynamoNumber.normalize("0e99999999999999999999999"), "0")
    }

    func testReader_rejectsNumbersDynamoDBRejects() {
        assertThrowsJSONError(.invalidItem, at: 10, "invalid number") {
            _ = try DynamoJSONReader.readItem(#"{"a":{"N":"1e200"}}"#)
        }
        assertThrowsJSONError(.invalidItem, at: 16, "invalid number") {
            _ = try DynamoJSONReader.readItem(#"{"a":{"NS":["1","x"]}}"#)
        }
    }
}
