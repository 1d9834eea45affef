@testable import FerryKit
import Foundation
import XCTest

final class ExampleConfigTests: XCTestCase {
    /// The example in deploy/ names every setting and loads without error.
    func testExampleConfiguration_loads() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let path = root.appendingPathComponent("deploy/ferry.example.yaml").path
        let config = try ConfigLoader(environment: [:]).load(file: path)
        XCTAssertEqual(config.source.table, "orders")
        XCTAssertEqual(config.target.endpoints.count, 2)
        XCTAssertEqual(config.stream.batchSize, 25)
        XCTAssertEqual(config.state.checkpoint, "/var/lib/ferry/checkpoint.json")
        let text = try String(contentsOfFile: path, encoding: .utf8)
        for setting in ConfigSettings.all.map(\.path) {
            let name = String(setting.split(separator: ".").last!)
            XCTAssertTrue(text.contains(name + ":"), "the example does not mention \(setting)")
        }
    }
}
