import DynamoModel
import XCTest

final class JSONViewObjectElementsTests: XCTestCase {
    func testObjectElements_giveTheSameMembersAsForEachMember() throws {
        let text = #" [ {"a" : {"S":"x"} , "b\u0041":[1,{"c":"}"}]} , {} ,7, {"n":{"N":"1"}} ] "#
        let view = try JSONView(text)
        var seen: [(String, [String], [String])] = []
        view.forEachObjectElement { element, members in
            let values = members.map { String(decoding: element.buffer[$0.valueRange], as: UTF8.self) }
            seen.append((String(decoding: element.rawBytes, as: UTF8.self), members.map(\.name), values))
        }
        XCTAssertEqual(seen.map(\.0), [#"{"a" : {"S":"x"} , "b\u0041":[1,{"c":"}"}]}"#, "{}", "7", #"{"n":{"N":"1"}}"#])
        XCTAssertEqual(seen.map(\.1), [["a", "bA"], [], [], ["n"]])
        XCTAssertEqual(seen[0].2, [#"{"S":"x"}"#, #"[1,{"c":"}"}]"#])
        var expected: [[String]] = []
        view.forEachElement { element in
            var names: [String] = []
            element.forEachMember { name, _ in names.append(name) }
            expected.append(names)
        }
        XCTAssertEqual(seen.map(\.1), expected)
    }

    func testEmptyArray_andNonArray_callNothing() throws {
        var calls = 0
        try JSONView("[ ]").forEachObjectElement { _, _ in calls += 1 }
        try JSONView(#"{"a":1}"#).forEachObjectElement { _, _ in calls += 1 }
        XCTAssertEqual(calls, 0)
    }
}
