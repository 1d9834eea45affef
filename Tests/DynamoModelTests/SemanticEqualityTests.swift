import DynamoModel
import XCTest

final class SemanticEqualityTests: XCTestCase {
    func testNumbers_equalByValue() {
        let same: [(String, String)] = [
            ("1.50", "1.5"), ("0", "-0"), ("0", "0.0"), ("1e2", "100"), ("-1.0", "-1"),
            ("12345678901234567890123456789012345678", "1.2345678901234567890123456789012345678E37"),
        ]
        for (a, b) in same {
            XCTAssertTrue(AttributeValue.n(a).semanticallyEquals(.n(b)), "\(a) vs \(b)")
            XCTAssertNotEqual(AttributeValue.n(a), .n(b), "structural equality stays textual")
        }
        XCTAssertFalse(AttributeValue.n("1.5").semanticallyEquals(.n("1.05")))
        XCTAssertFalse(AttributeValue.n("-1").semanticallyEquals(.n("1")))
        // Two 38-digit numbers a Double could not tell apart.
        XCTAssertFalse(AttributeValue.n("12345678901234567890123456789012345678")
            .semanticallyEquals(.n("12345678901234567890123456789012345679")))
    }

    func testSets_orderAndRepetitionDoNotMatter() {
        XCTAssertTrue(AttributeValue.ss(["a", "b", "c"]).semanticallyEquals(.ss(["c", "a", "b"])))
        XCTAssertTrue(AttributeValue.ss(["a", "a", "b"]).semanticallyEquals(.ss(["b", "a"])))
        XCTAssertFalse(AttributeValue.ss(["a", "b"]).semanticallyEquals(.ss(["a", "c"])))
        XCTAssertTrue(AttributeValue.ns(["1.0", "2"]).semanticallyEquals(.ns(["2.00", "1"])))
        XCTAssertFalse(AttributeValue.ns(["1", "2"]).semanticallyEquals(.ns(["1", "3"])))
        XCTAssertTrue(AttributeValue.bs([[1], [2, 3]]).semanticallyEquals(.bs([[2, 3], [1]])))
        XCTAssertFalse(AttributeValue.bs([[1], [2, 3]]).semanticallyEquals(.bs([[1], [3, 2]])))
    }

    func testStringsAndBinary_byBytes() {
        XCTAssertTrue(AttributeValue.s("é").semanticallyEquals(.s("é")))
        // Precomposed and decomposed é are different byte strings to DynamoDB.
        XCTAssertFalse(AttributeValue.s("\u{E9}").semanticallyEquals(.s("e\u{301}")))
        XCTAssertTrue(AttributeValue.b([0, 255]).semanticallyEquals(.b([0, 255])))
        XCTAssertFalse(AttributeValue.b([0, 255]).semanticallyEquals(.b([255, 0])))
    }

    func testMapsAndLists_deeply() {
        let a: AttributeValue = .m(["x": .l([.n("1.0"), .m(["y": .ns(["1", "2"])])]), "z": .null])
        let b: AttributeValue = .m(["z": .null, "x": .l([.n("1"), .m(["y": .ns(["2", "1.00"])])])])
        XCTAssertTrue(a.semanticallyEquals(b))
        XCTAssertFalse(a.semanticallyEquals(.m(["x": .l([.n("1")]), "z": .null])))
        // List order matters.
        XCTAssertFalse(AttributeValue.l([.s("a"), .s("b")]).semanticallyEquals(.l([.s("b"), .s("a")])))
        XCTAssertFalse(AttributeValue.m(["a": .null]).semanticallyEquals(.m(["a": .null, "b": .null])))
    }

    func testDifferentTypes_neverEqual() {
        let values: [AttributeValue] = [
            .s("1"), .n("1"), .b([49]), .bool(true), .null, .m([:]), .l([]), .ss(["1"]), .ns(["1"]), .bs([[49]]),
        ]
        for (i, a) in values.enumerated() {
            for (j, b) in values.enumerated() {
                XCTAssertEqual(a.semanticallyEquals(b), i == j, "\(a) vs \(b)")
            }
        }
    }

    func testItems_semanticallyEqual() {
        let a: Item = ["id": .s("k"), "n": .n("10")]
        XCTAssertTrue(a.semanticallyEquals(["n": .n("1e1"), "id": .s("k")]))
        XCTAssertFalse(a.semanticallyEquals(["n": .n("1e1")]))
    }

    func testDiff_reportsEachKindOfDifferenceSortedByName() {
        let source: Item = [
            "id": .s("k"), "price": .n("1.50"), "tags": .ss(["a", "b"]),
            "gone": .s("x"), "count": .n("3"), "changed": .s("old"),
        ]
        let target: Item = [
            "id": .s("k"), "price": .n("1.5"), "tags": .ss(["b", "a"]),
            "extra": .bool(true), "count": .s("3"), "changed": .s("new"),
        ]
        XCTAssertEqual(source.diff(target), [
            AttributeDifference(name: "changed", kind: .valueDiffers),
            AttributeDifference(name: "count", kind: .typeDiffers),
            AttributeDifference(name: "extra", kind: .missingInSelf),
            AttributeDifference(name: "gone", kind: .missingInOther),
        ])
        XCTAssertEqual(source.diff(source), [])
        XCTAssertEqual(
            AttributeDifference(name: "price", kind: .valueDiffers).description,
            #"attribute "price": value_differs"#)
    }
}
