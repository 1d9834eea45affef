import Replication
import XCTest

final class SequenceNumberTests: XCTestCase {
    func testOrder_isNumeric_notTextual() throws {
        let nine = try XCTUnwrap(SequenceNumber("9"))
        let ten = try XCTUnwrap(SequenceNumber("10"))
        XCTAssertLessThan(nine, ten)
        XCTAssertGreaterThan("9", "10", "as text the order is the other way round")
    }

    func testOrder_fortyDigitNumbers() throws {
        let a = try XCTUnwrap(SequenceNumber("4000000000000000000000000000000000000001"))
        let b = try XCTUnwrap(SequenceNumber("4000000000000000000000000000000000000002"))
        let short = try XCTUnwrap(SequenceNumber("999999999999999999999"))
        XCTAssertLessThan(a, b)
        XCTAssertLessThan(short, a)
    }

    func testLeadingZeros_doNotCount() throws {
        XCTAssertEqual(SequenceNumber("000123"), SequenceNumber("123"))
        XCTAssertEqual(SequenceNumber("0000")?.digits, "0")
    }

    func testInvalidText_isRejected() {
        XCTAssertNil(SequenceNumber(""))
        XCTAssertNil(SequenceNumber("12a"))
        XCTAssertNil(SequenceNumber("-1"))
        XCTAssertNil(SequenceNumber(String(repeating: "1", count: 41)))
    }

    func testCodable_roundTripsAsString() throws {
        let seq = try XCTUnwrap(SequenceNumber("12345678901234567890123"))
        let data = try JSONEncoder().encode([seq])
        XCTAssertEqual(String(decoding: data, as: UTF8.self), "[\"12345678901234567890123\"]")
        XCTAssertEqual(try JSONDecoder().decode([SequenceNumber].self, from: data), [seq])
        XCTAssertThrowsError(try JSONDecoder().decode([SequenceNumber].self, from: Data("[\"x1\"]".utf8)))
    }
}
