import DynamoModel
import XCTest

final class Base64Tests: XCTestCase {
    func testEncode_knownVectors() {
        // RFC 4648 section 10.
        let vectors = [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="),
                       ("fooba", "Zm9vYmE="), ("foobar", "Zm9vYmFy")]
        for (plain, encoded) in vectors {
            XCTAssertEqual(Base64.encode(utf8(plain)), encoded)
            XCTAssertEqual(Base64.decode(encoded), utf8(plain))
        }
        XCTAssertEqual(Base64.encode([0xFB, 0xFF, 0xBF]), "+/+/")
    }

    func testRoundTrip_allByteValuesAndLengths() {
        for length in 0...260 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
            XCTAssertEqual(Base64.decode(Base64.encode(bytes)), bytes, "length \(length)")
        }
        XCTAssertEqual(Base64.decode(Base64.encode(allByteValues)), allByteValues)
    }

    func testDecode_rejectsInvalidText() {
        for text in ["Zg", "Zg=", "Z===", "====", "Zm9v=", "Zm=v", "Zm9v\n", "Zm9-", "Zm9_", "Zm 9v", "é===", "Zg==Zg=="] {
            XCTAssertNil(Base64.decode(text), text)
        }
    }

    func testDecode_ignoresUnusedLowBits() {
        XCTAssertEqual(Base64.decode("Zh=="), utf8("f"))
    }
}
