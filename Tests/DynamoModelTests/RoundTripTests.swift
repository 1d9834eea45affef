import DynamoModel
import XCTest

final class RoundTripTests: XCTestCase {
    func testRoundTrip_eachOfTheTenTypes() throws {
        let values: [String: AttributeValue] = [
            "s": .s("hello"),
            "n": .n("-12.5e3"),
            "b": .b([0, 1, 2, 253, 254, 255]),
            "bool": .bool(true),
            "boolFalse": .bool(false),
            "null": .null,
            "m": .m(["inner": .s("x"), "num": .n("1")]),
            "l": .l([.s("a"), .n("2"), .null]),
            "ss": .ss(["a", "b", "c"]),
            "ns": .ns(["1", "2.5", "-3"]),
            "bs": .bs([[1], [2, 3], []]),
        ]
        for (name, value) in values {
            let item: Item = [name: value]
            XCTAssertEqual(try roundTrip(item), item, name)
            // Each value also reads on its own.
            var writer = DynamoJSONWriter()
            writer.writeAttributeValue(value)
            XCTAssertEqual(try DynamoJSONReader.readAttributeValue(writer.bytes), value, name)
        }
        let all = Item(uniqueKeysWithValues: values.map { ($0.key, $0.value) })
        XCTAssertEqual(try roundTrip(all), all)
    }

    func testRoundTrip_deepNesting() throws {
        var value: AttributeValue = .s("leaf")
        for depth in 0..<32 {
            value = depth % 2 == 0 ? .m(["level\(depth)": value, "n": .n("\(depth)")]) : .l([value, .bool(true)])
        }
        let item: Item = ["deep": value]
        XCTAssertEqual(try roundTrip(item), item)
    }

    func testRoundTrip_unicodeAndEveryEscape() throws {
        let control = String(decoding: (0..<0x20).map { UInt8($0) }, as: UTF8.self)
        let item: Item = [
            "quotes": .s("say \"hi\" \\ back\\slash / slash"),
            "control": .s(control),
            "unicode": .s("héllo wörld — 日本語 🎉 \u{10FFFF} \u{7F}"),
            "名前": .s("キー"),
            "emoji🔑": .ss(["🎉", "é", "e\u{301}"]),
            "key \"with\" \\ and\n\u{1}": .m(["\t": .ns(["1"]), "\"": .l([.s("\u{1F}\\")])]),
            "long": .s(String(repeating: "abcdefghij\"klmnop\\qrstuvwxyz\u{7}é日", count: 50)),
        ]
        XCTAssertEqual(try roundTrip(item), item)
    }

    func testRoundTrip_emptyStringsListsAndMaps() throws {
        let item: Item = [
            "": .s(""),
            "emptyList": .l([]),
            "emptyMap": .m([:]),
            "emptyBinary": .b([]),
            "nested": .m(["e": .l([.m([:]), .l([])])]),
        ]
        XCTAssertEqual(try roundTrip(item), item)
        XCTAssertEqual(try roundTrip([:]), [:])
    }

    func testRoundTrip_binaryWithAllByteValues() throws {
        for length in [0, 1, 2, 3, 4, 255, 256, 257] {
            let bytes = Array(allByteValues.prefix(length)) + allByteValues.suffix(max(0, length - 256))
            let item: Item = ["b": .b(bytes), "bs": .bs([bytes, allByteValues])]
            XCTAssertEqual(try roundTrip(item), item, "length \(length)")
        }
    }

    func testRoundTrip_numbersKeepTheirText() throws {
        let texts = [
            "0", "-0", "0.0", "1.50", "1e2", "1E+2", "-1.5e-130",
            "12345678901234567890123456789012345678",
            "-9.9999999999999999999999999999999999999E+125",
            "0.00000000000000000000000000000000000000000000000001",
        ]
        for text in texts {
            let item: Item = ["n": .n(text), "ns": .ns([text, "7"])]
            XCTAssertEqual(try roundTrip(item), item, text)
        }
    }

    func testRoundTrip_sortedKeysGiveStableBytes() throws {
        let item: Item = ["b": .s("2"), "a": .s("1"), "c": .m(["z": .null, "y": .bool(false)])]
        var writer = DynamoJSONWriter()
        writer.sortsKeys = true
        writer.writeItem(item)
        XCTAssertEqual(
            String(decoding: writer.bytes, as: UTF8.self),
            #"{"a":{"S":"1"},"b":{"S":"2"},"c":{"M":{"y":{"BOOL":false},"z":{"NULL":true}}}}"#)
        XCTAssertEqual(try DynamoJSONReader.readItem(writer.bytes), item)
    }
}
