import Backfill
import DynamoModel
import XCTest

final class ExportRecordTests: XCTestCase {
    private let schema = KeySchema(partitionKey: "pk", sortKey: "sk")

    private func parse(_ line: String, _ type: ExportManifest.ExportType) throws -> (record: ExportRecord, key: ItemKey) {
        try ExportRecord.parse(line: Array(line.utf8), type: type, keySchema: schema)
    }

    func testFullLine_isAPutOfTheItemBytes_withEveryAttributeType() throws {
        let (record, key) = try parse(ExportFixture.fullLine(7), .full)
        XCTAssertEqual(record, .put(item: Array(ExportFixture.item(7).utf8), writeTimestampMicros: nil))
        XCTAssertEqual(key.attributes, ["pk": .s("user#7"), "sk": .n("7")])
        let item = try DynamoJSONReader.readItem(record.payload)
        XCTAssertEqual(item["nothing"], .null)
        XCTAssertEqual(item["active"], .bool(false))
        XCTAssertEqual(item["colors"], .ss(["red", "green"]))
        XCTAssertEqual(item["codes"], .bs([[0x00, 0x01], [0xff]]))
        XCTAssertEqual(item["name"], .s("Zoë \"7\" é\n日本"))
        XCTAssertEqual(item.count, 12)
    }

    func testIncrementalLine_withNewImage_isAPutWithTheWriteTimestamp() throws {
        let (record, key) = try parse(ExportFixture.incrementalLine(3, delete: false), .incremental)
        XCTAssertEqual(record, .put(item: Array(ExportFixture.item(3).utf8), writeTimestampMicros: 1_709_280_000_000_003))
        XCTAssertEqual(key.attributes, ["pk": .s("user#3"), "sk": .n("3")])
    }

    func testIncrementalLine_withoutNewImage_isADeleteOfTheKeys() throws {
        let (record, key) = try parse(ExportFixture.incrementalLine(4, delete: true), .incremental)
        XCTAssertEqual(record, .delete(keys: Array("{\"pk\":{\"S\":\"user#4\"},\"sk\":{\"N\":\"4\"}}".utf8),
                                       writeTimestampMicros: 1_709_280_000_000_004))
        XCTAssertEqual(key.attributes, ["pk": .s("user#4"), "sk": .n("4")])
        // NEW_IMAGE view: keys only, and a plain-number timestamp.
        let bare = try parse("{\"Metadata\":{\"WriteTimestampMicros\":17},\"Keys\":{\"pk\":{\"S\":\"a\"},\"sk\":{\"N\":\"1\"}}}", .incremental)
        XCTAssertEqual(bare.record.writeTimestampMicros, 17)
    }

    func testInvalidJSON_givesTheByteOffset_neverTheContent() {
        let secret = "SECRET-VALUE-1234"
        let line = "{\"Item\":{\"pk\":{\"S\":\"\(secret)\"},\"sk\":{\"N\":\"1\"},\"x\":{\"S\" \"oops\"}}}"
        XCTAssertThrowsError(try parse(line, .full)) { error in
            guard let error = error as? ExportError else { return XCTFail("\(error)") }
            XCTAssertEqual(error.code, .invalidLine)
            XCTAssertTrue(error.message.contains("at byte"), error.message)
            XCTAssertFalse("\(error)".contains(secret))
            XCTAssertFalse("\(error)".contains("oops"))
        }
    }

    func testInvalidDynamoDBJSON_andBadKeys_areInvalidLines() {
        let cases: [(String, ExportManifest.ExportType, String)] = [
            ("{\"Item\":{\"pk\":{\"S\":\"a\"},\"sk\":{\"N\":\"1\"},\"x\":{\"Q\":\"1\"}}}", .full, "invalid DynamoDB JSON"),
            ("{\"Item\":{\"pk\":{\"S\":\"a\"},\"sk\":{\"N\":\"not-a-number\"}}}", .full, "\"Item\""),
            ("{\"Item\":{\"pk\":{\"S\":\"a\"}}}", .full, "missing sort key"),
            ("{\"Item\":{\"pk\":{\"S\":\"\"},\"sk\":{\"N\":\"1\"}}}", .full, "must not be empty"),
            ("{\"Item\":[1]}", .full, "\"Item\" is not an object"),
            ("[1,2]", .full, "not a JSON object"),
            ("{\"Keys\":{\"pk\":{\"S\":\"a\"},\"sk\":{\"N\":\"1\"}}}", .full, "incremental export's line"),
            (ExportFixture.fullLine(1), .incremental, "full export's line"),
            ("{\"Keys\":{\"pk\":{\"S\":\"a\"},\"sk\":{\"N\":\"1\"}},\"NewImage\":{\"pk\":{\"S\":\"b\"},\"sk\":{\"N\":\"1\"}}}",
             .incremental, "differ"),
            ("{\"Metadata\":{\"WriteTimestampMicros\":{\"N\":\"soon\"}},\"Keys\":{\"pk\":{\"S\":\"a\"},\"sk\":{\"N\":\"1\"}}}",
             .incremental, "WriteTimestampMicros"),
        ]
        for (line, type, reason) in cases {
            XCTAssertThrowsError(try parse(line, type), line) { error in
                XCTAssertEqual((error as? ExportError)?.code, .invalidLine, line)
                XCTAssertTrue("\(error)".contains(reason), "\(error) should say \(reason)")
            }
        }
    }
}
