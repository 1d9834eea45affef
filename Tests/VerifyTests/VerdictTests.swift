import DynamoModel
@testable import Verify
import XCTest

final class VerdictTests: XCTestCase {
    func testNumbersEqualByValue_andSetsInAnyOrder_areEqual() throws {
        let a: Item = ["pk": .s("a"), "price": .n("1.50"), "tags": .ss(["x", "y", "z"]), "ns": .ns(["1", "2.0"])]
        let b: Item = ["pk": .s("a"), "price": .n("1.5"), "tags": .ss(["z", "x", "y"]), "ns": .ns(["2", "1.00"])]
        XCTAssertEqual(Verdict(source: a, target: b), .equal)
    }

    func testChangedAttribute_namesTheAttributeAndHow() {
        let a: Item = ["pk": .s("a"), "price": .n("2"), "gone": .bool(true)]
        let b: Item = ["pk": .s("a"), "price": .s("2"), "new": .null]
        XCTAssertEqual(Verdict(source: a, target: b), .different([
            AttributeDifference(name: "gone", kind: .missingInOther),
            AttributeDifference(name: "new", kind: .missingInSelf),
            AttributeDifference(name: "price", kind: .typeDiffers),
        ]))
    }

    func testPresence_givesTheKind() {
        let a: Item = ["pk": .s("a")]
        XCTAssertEqual(Verdict(source: a, target: nil), .missingInTarget)
        XCTAssertEqual(Verdict(source: nil, target: a), .extraInTarget)
        XCTAssertEqual(Verdict(source: nil, target: nil), .equal)
    }

    func testMismatchLine_holdsKindKeyAndAttributes_valuesOnlyWhenAsked() throws {
        let m = Mismatch(kind: .different, key: ["pk": .s("k1")],
                         differences: [AttributeDifference(name: "price", kind: .valueDiffers)],
                         source: ["pk": .s("k1"), "price": .n("2")], target: ["pk": .s("k1"), "price": .n("3")],
                         repaired: false, observedAt: 1_767_225_600.5)
        let plain = String(decoding: m.jsonLine(includeValues: false), as: UTF8.self)
        XCTAssertEqual(plain, #"{"kind":"different","key":{"pk":{"S":"k1"}},"attributes":[{"name":"price","difference":"value_differs"}],"repaired":false,"observed_at":1767225600.5}"#)
        let withValues = String(decoding: m.jsonLine(includeValues: true), as: UTF8.self)
        XCTAssertTrue(withValues.contains(#""source":{"N":"2"},"target":{"N":"3"}"#), withValues)
    }

    func testSegmentsOption_parses() throws {
        XCTAssertEqual(try VerifyScope.parseSegments("3/16"), .segments([3], total: 16))
        XCTAssertEqual(try VerifyScope.parseSegments("0-2,5/8"), .segments([0, 1, 2, 5], total: 8))
        for bad in ["16/16", "3", "a/4", "2-1/4", "/4", "1/0"] {
            XCTAssertThrowsError(try VerifyScope.parseSegments(bad), bad)
        }
    }

    func testKeysFile_readsKeysAndReportLines_skipsCommentsAndRepeats() throws {
        let text = """
            # keys to check
            {"pk":{"S":"a"},"sk":{"N":"1"}}

            {"pk":{"S":"a"},"sk":{"N":"1.0"},"other":{"S":"ignored"}}
            {"kind":"different","key":{"pk":{"S":"b"},"sk":{"N":"2"}},"repaired":false}
            """
        let keys = try KeysFile.parse(Array(text.utf8), path: "keys.jsonl", keySchema: KeySchema(partitionKey: "pk", sortKey: "sk"))
        XCTAssertEqual(keys, [["pk": .s("a"), "sk": .n("1")], ["pk": .s("b"), "sk": .n("2")]])
        XCTAssertThrowsError(try KeysFile.parse(Array("{\"pk\":{\"S\":\"a\"}}\n".utf8), path: "k", keySchema: KeySchema(partitionKey: "pk", sortKey: "sk"))) {
            XCTAssertTrue("\($0)".contains("line 1"), "\($0)")
        }
    }

    func testSummary_exitCodes() {
        var s = VerifySummary()
        s.compared = 10
        s.equal = 10
        XCTAssertEqual(s.exitCode, 0)
        s.different = 1
        XCTAssertEqual(s.exitCode, 1)
        s.repaired = 1
        XCTAssertEqual(s.exitCode, 0)
        s.complete = false
        XCTAssertEqual(s.exitCode, 2)
        XCTAssertTrue(s.render(source: "a", target: "b", reportPath: "r.jsonl").contains("incomplete"))
        XCTAssertEqual(VerifySummary.grouped(1_234_567), "1,234,567")
    }
}

final class RawItemTests: XCTestCase {
    private let schema = KeySchema(partitionKey: "pk", sortKey: "sk")

    private func raw(_ text: String) throws -> RawItem {
        try RawItem(try JSONView(text), keySchema: schema)
    }

    /// The raw comparison agrees with comparing decoded items.
    func testRawComparison_matchesTheDecodedComparison() throws {
        let base = #"{"pk":{"S":"a"},"sk":{"N":"1"},"n":{"N":"1.50"},"ss":{"SS":["x","y"]},"m":{"M":{"a":{"N":"1"},"b":{"L":[{"S":"q"}]}}}}"#
        let cases: [(String, Bool)] = [
            (base, true),
            (#"{"ss":{"SS":["y","x"]},"m":{"M":{"b":{"L":[{"S":"q"}]},"a":{"N":"1.0"}}},"pk":{"S":"a"},"sk":{"N":"1.0"},"n":{"N":"1.5"}}"#, true),
            (#"{"pk":{"S":"a"},"sk":{"N":"1"},"n":{"N":"1.51"},"ss":{"SS":["x","y"]},"m":{"M":{"a":{"N":"1"},"b":{"L":[{"S":"q"}]}}}}"#, false),
            (#"{"pk":{"S":"a"},"sk":{"N":"1"},"n":{"S":"1.50"},"ss":{"SS":["x","y"]},"m":{"M":{"a":{"N":"1"},"b":{"L":[{"S":"q"}]}}}}"#, false),
            (#"{"pk":{"S":"a"},"sk":{"N":"1"},"n":{"N":"1.50"},"ss":{"SS":["x","y"]}}"#, false),
            (#"{"pk":{"S":"a"},"sk":{"N":"1"},"n":{"N":"1.50"},"ss":{"SS":["x","y"]},"m":{"M":{"a":{"N":"1"},"b":{"L":[{"S":"r"}]}}}}"#, false),
            (#"{"pk":{"S":"a"},"sk":{"N":"1"},"n":{"N":"1.50"},"ss":{"SS":["x","y"]},"other":{"M":{"a":{"N":"1"},"b":{"L":[{"S":"q"}]}}}}"#, false),
        ]
        let left = try raw(base)
        for (text, expected) in cases {
            let right = try raw(text)
            XCTAssertEqual(try left.semanticallyEquals(right), expected, text)
            XCTAssertEqual(try right.semanticallyEquals(left), expected, text)
            XCTAssertEqual(try left.decoded().semanticallyEquals(right.decoded()), expected, text)
        }
        XCTAssertEqual(KeyBytes(try raw(cases[1].0).key), KeyBytes(left.key), "1 and 1.0 are one key")
    }

    func testItemWithoutItsKey_isInvalidData() {
        XCTAssertThrowsError(try raw(#"{"pk":{"S":"a"}}"#))
        XCTAssertThrowsError(try raw(#"[1]"#))
    }
}

final class SetFastPathTests: XCTestCase {
    func testSameSetMembers_isOnlyEverTrueWhenTheFullComparisonIs() {
        let pairs: [(AttributeValue, AttributeValue)] = [
            (.ss(["a", "b"]), .ss(["b", "a"])), (.ss(["a", "a"]), .ss(["a", "b"])), (.ss(["a"]), .ss(["a", "b"])),
            (.ns(["1", "2"]), .ns(["2", "1"])), (.ns(["1.0"]), .ns(["1"])), (.bs([[1], [2]]), .bs([[2], [1]])),
            (.bs([[1]]), .bs([[2]])), (.ss(["é"]), .ss(["e\u{301}"])), (.ss(["x"]), .ns(["1"])),
        ]
        for (a, b) in pairs where RawItem.sameSetMembers(a, b) {
            XCTAssertTrue(a.semanticallyEquals(b), "\(a) vs \(b)")
        }
        XCTAssertTrue(RawItem.sameSetMembers(.ss(["a", "b"]), .ss(["b", "a"])))
        XCTAssertFalse(RawItem.sameSetMembers(.ss(["é"]), .ss(["e\u{301}"])), "bytes, not canonical equivalence")
    }
}
