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

final class JSONViewExpandingWalkTests: XCTestCase {
    func testExpandingWalk_handsOverTheArraysElements_andTheOtherTopLevelMembers() throws {
        let text = #"{"Count":2,"Responses":{"other":[{"x":1}],"t\u0031":[{"pk":{"S":"a"}},{"pk":{"S":"b"},"v":{"L":[]}}],"z":{}},"UnprocessedKeys":{"t1":{"Keys":[]}}}"#
        let view = try JSONView(text)
        var members: [String] = []
        var elements: [[String]] = []
        var raw: [String] = []
        view.forEachMember(expanding: ["Responses", "t1"], member: { name, value in
            members.append(name + "=" + String(decoding: value.rawBytes, as: UTF8.self))
        }, element: { element, names in
            elements.append(names.map(\.name))
            raw.append(String(decoding: element.rawBytes, as: UTF8.self))
        })
        XCTAssertEqual(members, ["Count=2", #"UnprocessedKeys={"t1":{"Keys":[]}}"#])
        XCTAssertEqual(elements, [["pk"], ["pk", "v"]])
        XCTAssertEqual(raw, [#"{"pk":{"S":"a"}}"#, #"{"pk":{"S":"b"},"v":{"L":[]}}"#])
    }

    func testExpandingWalk_withAnAbsentPathOrAScalar_callsNoElement() throws {
        var elements = 0
        var members: [String] = []
        try JSONView(#"{"Items":5,"LastEvaluatedKey":{"k":{"S":"x"}}}"#).forEachMember(expanding: ["Items"], member: { name, _ in
            members.append(name)
        }, element: { _, _ in elements += 1 })
        try JSONView(#"{"Count":0}"#).forEachMember(expanding: ["Items"], member: { name, _ in members.append(name) }, element: { _, _ in elements += 1 })
        try JSONView(#"{"Items":[]}"#).forEachMember(expanding: ["Items"], member: { name, _ in members.append(name) }, element: { _, _ in elements += 1 })
        XCTAssertEqual(elements, 0)
        XCTAssertEqual(members, ["Items", "LastEvaluatedKey", "Count"])
    }
}
