import DynamoModel
import XCTest

final class JSONViewTests: XCTestCase {
    private let record = """
        {"eventID":"e1","eventName":"INSERT","eventVersion":"1.1",
         "dynamodb":{"ApproximateCreationDateTime":1.7e9,
           "Keys":{"pk":{"S":"k1"}},
           "NewImage": {"pk":{"S":"k1"},"v":{"N":"1.50"},"s":{"S":"a \\"quoted\\" }] text"}} ,
           "SequenceNumber":"111000000000001","SizeBytes":52,"StreamViewType":"NEW_IMAGE"},
         "userIdentity":null,"flags":[true,false,{"x":[1,2]}],"empty":{},"list":[]}
        """

    func testRawRange_isExactlyTheSubDocumentBytes() throws {
        let bytes = utf8(record)
        let view = try JSONView(bytes)
        let image = try XCTUnwrap(view["dynamodb"]?["NewImage"])
        let expected = #"{"pk":{"S":"k1"},"v":{"N":"1.50"},"s":{"S":"a \"quoted\" }] text"}}"#
        XCTAssertEqual(String(decoding: image.rawBytes, as: UTF8.self), expected)
        XCTAssertEqual(Array(bytes[image.rawRange]), utf8(expected))
        XCTAssertEqual(image.kind, .object)
        XCTAssertEqual(try image.readItem(), ["pk": .s("k1"), "v": .n("1.50"), "s": .s("a \"quoted\" }] text")])
        XCTAssertEqual(try image.validateItem(decoding: ["pk"]), ["pk": .s("k1")])
    }

    func testScalarFields() throws {
        let view = try JSONView(record)
        XCTAssertEqual(view["eventName"]?.string, "INSERT")
        XCTAssertEqual(view["dynamodb"]?["SequenceNumber"]?.string, "111000000000001")
        XCTAssertEqual(view["dynamodb"]?["SizeBytes"]?.intValue, 52)
        XCTAssertEqual(view["dynamodb"]?["ApproximateCreationDateTime"]?.numberText, "1.7e9")
        XCTAssertEqual(view["dynamodb"]?["ApproximateCreationDateTime"]?.doubleValue, 1.7e9)
        XCTAssertEqual(view["userIdentity"]?.isNull, true)
        XCTAssertEqual(view["flags"]?[0]?.bool, true)
        XCTAssertEqual(view["flags"]?[1]?.bool, false)
        XCTAssertEqual(view["flags"]?[2]?["x"]?[1]?.numberText, "2")
        XCTAssertEqual(view["empty"]?.kind, .object)
        XCTAssertEqual(view["list"]?.elements.count, 0)
    }

    func testMissingAndMismatched_areNil() throws {
        let view = try JSONView(record)
        XCTAssertNil(view["absent"])
        XCTAssertNil(view["eventName"]?["x"])
        XCTAssertNil(view["flags"]?[3])
        XCTAssertNil(view["flags"]?[-1])
        XCTAssertNil(view[0])
        XCTAssertNil(view["empty"]?["x"])
        XCTAssertNil(view["eventName"]?.numberText)
        XCTAssertNil(view["dynamodb"]?["SizeBytes"]?.string)
        // A key only matches whole: "Keys" is not "Key".
        XCTAssertNil(view["dynamodb"]?["Key"])
    }

    func testIteration_membersAndElementsInOrder() throws {
        let view = try JSONView(#"{"a":1, "b" : [1,"two",{"3":3}] ,"c\n":null}"#)
        var names: [String] = []
        var raws: [String] = []
        view.forEachMember { name, value in
            names.append(name)
            raws.append(String(decoding: value.rawBytes, as: UTF8.self))
        }
        XCTAssertEqual(names, ["a", "b", "c\n"])
        XCTAssertEqual(raws, ["1", #"[1,"two",{"3":3}]"#, "null"])
        XCTAssertEqual(view["b"]?.elements.map { String(decoding: $0.rawBytes, as: UTF8.self) },
                       ["1", #""two""#, #"{"3":3}"#])
    }

    func testEscapedKeys_match() throws {
        let view = try JSONView(#"{"N\u0065wImage":{"x":{"S":"\u00e9"}}}"#)
        XCTAssertEqual(try view["NewImage"]?.readItem(), ["x": .s("é")])
        XCTAssertEqual(view["NewImage"]?["x"]?["S"]?.string, "é")
    }

    func testDuplicateKey_firstWins() throws {
        XCTAssertEqual(try JSONView(#"{"a":1,"a":2}"#)["a"]?.numberText, "1")
    }

    func testSubRangeOfALargerBuffer_exportLines() throws {
        let lines = utf8("{\"Item\":{\"id\":{\"S\":\"1\"}}}\n{\"Item\":{\"id\":{\"S\":\"2\"}}}\n")
        var ids: [String] = []
        var start = 0
        for (index, byte) in lines.enumerated() where byte == UInt8(ascii: "\n") {
            let line = try JSONView(lines, range: start..<index)
            ids.append(try XCTUnwrap(line["Item"]?.readItem()["id"]?.stringValue))
            start = index + 1
        }
        XCTAssertEqual(ids, ["1", "2"])
    }

    func testTopLevelScalars() throws {
        XCTAssertEqual(try JSONView(" 42 ").numberText, "42")
        XCTAssertEqual(try JSONView(" 42 ").rawRange, 1..<3)
        XCTAssertEqual(try JSONView(#""x\ty""#).string, "x\ty")
        XCTAssertEqual(try JSONView("true").bool, true)
    }

    func testValidation_isDoneOnceUpFront() {
        assertThrowsJSONError(.invalidJSON, at: 19, "expected ',' or '}'") {
            _ = try JSONView(#"{"a":{"b":[1,2,3]} "c":1}"#)
        }
    }

    func testJSONValue_fromView() throws {
        let view = try JSONView(#"{"a":[1,{"b":null}]}"#)
        XCTAssertEqual(try view["a"]?.jsonValue(), .array([.number("1"), .object([("b", .null)])]))
    }
}
