import XCTest
final class PlaceholderClientTests: XCTestCase { func testNothing() {} }
