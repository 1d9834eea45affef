import DynamoModel
import XCTest

final class DynamoJSONWriterTests: XCTestCase {
    private func text(_ writer: DynamoJSONWriter) -> String { String(decoding: writer.bytes, as: UTF8.self) }

    func testStringEscaping() {
        var w = DynamoJSONWriter()
        w.writeString("q\" b\\ s/ \u{8}\u{C}\n\r\t \u{0}\u{1F} é 🎉 \u{7F}")
        XCTAssertEqual(text(w), #""q\" b\\ s/ \b\f\n\r\t \u0000\u001f é 🎉 "# + "\u{7F}\"")
        XCTAssertEqual(try JSONView(w.bytes).string, "q\" b\\ s/ \u{8}\u{C}\n\r\t \u{0}\u{1F} é 🎉 \u{7F}")
    }

    func testEachAttributeValueType() {
        let cases: [(AttributeValue, String)] = [
            (.s("x"), #"{"S":"x"}"#), (.n("1.50"), #"{"N":"1.50"}"#), (.b([0, 255]), #"{"B":"AP8="}"#),
            (.bool(true), #"{"BOOL":true}"#), (.bool(false), #"{"BOOL":false}"#), (.null, #"{"NULL":true}"#),
            (.m(["k": .s("v")]), #"{"M":{"k":{"S":"v"}}}"#), (.l([.n("1"), .null]), #"{"L":[{"N":"1"},{"NULL":true}]}"#),
            (.l([]), #"{"L":[]}"#), (.m([:]), #"{"M":{}}"#),
            (.ss(["a", "b"]), #"{"SS":["a","b"]}"#), (.ns(["1", "2"]), #"{"NS":["1","2"]}"#),
            (.bs([[1], [2, 3]]), #"{"BS":["AQ==","AgM="]}"#),
        ]
        for (value, expected) in cases {
            var w = DynamoJSONWriter()
            w.writeAttributeValue(value)
            XCTAssertEqual(text(w), expected)
        }
    }

    func testBatchWriteItemBody_withRawItemsAndSeparators() throws {
        let image = try JSONView(#"{"x":1,"img":{"pk":{"S":"a"},"v":{"N":"1"}}}"#)["img"]!
        var w = DynamoJSONWriter()
        w.beginObject()
        w.writeKey("RequestItems")
        w.beginObject()
        w.writeKey("my-table")
        w.beginArray()
        for _ in 0..<2 {
            w.beginObject(); w.writeKey("PutRequest"); w.beginObject()
            w.writeKey("Item"); w.writeRawValue(image.rawBytes)
            w.endObject(); w.endObject()
        }
        w.beginObject(); w.writeKey("DeleteRequest"); w.beginObject()
        w.writeKey("Key"); w.writeItem(["pk": .s("b")])
        w.endObject(); w.endObject()
        w.endArray()
        w.endObject()
        w.writeKey("ReturnConsumedCapacity"); w.writeString("NONE")
        w.endObject()
        let put = #"{"PutRequest":{"Item":{"pk":{"S":"a"},"v":{"N":"1"}}}}"#
        XCTAssertEqual(text(w), #"{"RequestItems":{"my-table":["# + put + "," + put
            + #",{"DeleteRequest":{"Key":{"pk":{"S":"b"}}}}]},"ReturnConsumedCapacity":"NONE"}"#)
        XCTAssertNoThrow(try JSONValue.parse(w.bytes))
    }

    func testSeparators_afterEveryKindOfValue() throws {
        var w = DynamoJSONWriter()
        w.beginArray()
        w.writeInt(-12); w.writeNumberText("1.5e3"); w.writeBool(true); w.writeBool(false); w.writeNull()
        w.writeString(""); w.beginObject(); w.endObject(); w.beginArray(); w.endArray()
        w.writeBase64String([1, 2, 3]); w.writeRawValue(utf8("[7]")); w.writeItem([:])
        w.endArray()
        XCTAssertEqual(text(w), #"[-12,1.5e3,true,false,null,"",{},[],"AQID",[7],{}]"#)
    }

    func testRawFragments_getNoSeparator() {
        var w = DynamoJSONWriter()
        w.writeRaw("{\"a\":")
        w.writeInt(1)
        w.writeRaw("}\n")
        w.writeRaw(utf8("{}")[...])
        XCTAssertEqual(text(w), "{\"a\":1}\n{}")
    }

    func testReset_keepsCapacityAndClears() {
        var w = DynamoJSONWriter(capacity: 64)
        w.writeString("x")
        w.reset()
        XCTAssertTrue(w.bytes.isEmpty)
        w.writeString("y")
        XCTAssertEqual(text(w), #""y""#)
    }

    func testKeysAreEscaped() throws {
        var w = DynamoJSONWriter()
        w.beginObject()
        w.writeKey("a\"b\n")
        w.writeItem(["k\\": .s("v\u{1}")])
        w.endObject()
        XCTAssertEqual(text(w), #"{"a\"b\n":{"k\\":{"S":"v\u0001"}}}"#)
        XCTAssertEqual(try JSONView(w.bytes)["a\"b\n"]?.readItem(), ["k\\": .s("v\u{1}")])
    }
}
