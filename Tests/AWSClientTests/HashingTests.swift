import XCTest
@testable import AWSClient

final class HashingTests: XCTestCase {
    func testSHA256_ofKnownInputs() {
        XCTAssertEqual(Hashing.sha256Hex(""), Hashing.emptySHA256Hex)
        XCTAssertEqual(Hashing.sha256Hex([UInt8]()), Hashing.emptySHA256Hex)
        XCTAssertEqual(Hashing.sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(Hashing.sha256Hex(Array("abc".utf8)[...]), Hashing.sha256Hex("abc"))
    }

    func testHMACSHA256_matchesRFC4231TestCase2() {
        XCTAssertEqual(Hashing.hex(Hashing.hmacSHA256(key: Array("Jefe".utf8), data: "what do ya want for nothing?")),
                       "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }

    func testHex_isLowerCaseTwoDigitsPerByte() {
        XCTAssertEqual(Hashing.hex([0x00, 0x0f, 0xa0, 0xff]), "000fa0ff")
        XCTAssertEqual(Hashing.hex([UInt8]()), "")
    }
}
