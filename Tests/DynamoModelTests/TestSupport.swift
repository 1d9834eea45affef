import DynamoModel
import XCTest

/// The UTF-8 bytes of `text`.
func utf8(_ text: String) -> [UInt8] { Array(text.utf8) }

/// Asserts that `body` throws a `DynamoJSONError` with `code` at `offset`.
func assertThrowsJSONError(
    _ code: DynamoJSONError.Code, at offset: Int?, _ reason: String? = nil,
    file: StaticString = #filePath, line: UInt = #line, _ body: () throws -> Void
) {
    do {
        try body()
        XCTFail("expected \(code) at \(String(describing: offset)), nothing thrown", file: file, line: line)
    } catch let error as DynamoJSONError {
        XCTAssertEqual(error.code, code, "\(error)", file: file, line: line)
        XCTAssertEqual(error.offset, offset, "\(error)", file: file, line: line)
        if let reason { XCTAssertEqual(error.reason, reason, file: file, line: line) }
    } catch {
        XCTFail("unexpected error \(error)", file: file, line: line)
    }
}

/// Writes `item` with the writer and reads it back.
func roundTrip(_ item: Item) throws -> Item {
    var writer = DynamoJSONWriter()
    writer.writeItem(item)
    return try DynamoJSONReader.readItem(writer.bytes)
}

/// Every byte value, for binary round trips.
let allByteValues: [UInt8] = (0...255).map { UInt8($0) }
