import AWSClient
import DynamoModel
import Foundation
import Logging
import Synchronization
@testable import Verify
import XCTest

/// The verifier against moto's server: real DynamoDB wire protocol, the
/// source in us-east-1 and the target in us-west-2.
final class MotoVerifierTests: XCTestCase {
    private var dir: String!

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "ferry-verify-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    private func reportLines(_ path: String) throws -> [JSONValue] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        return try text.split(separator: "\n").map { try JSONValue.parse(String($0)) }
    }

    func testEqualTables_haveNoMismatches() throws {
        let db = try MotoTables(prefix: "verify-equal")
        let items = (0..<60).map(MotoTables.item)
        try MotoTables.put(db.source, db.table, items)
        try MotoTables.put(db.target, db.table, items)
        let report = try MismatchReportFile(path: dir + "/report.jsonl", includeValues: true)
        let summary = try db.verifier(db.options(), sink: report).run()
        try report.finish()
        XCTAssertEqual(summary.compared, 60)
        XCTAssertEqual(summary.equal, 60)
        XCTAssertEqual(summary.targetItemsChecked, 60)
        XCTAssertEqual(summary.mismatches, 0)
        XCTAssertEqual(summary.exitCode, VerifySummary.exitInSync)
        XCTAssertEqual(try reportLines(dir + "/report.jsonl").count, 0, "an empty report is the evidence of a clean run")
    }

    func testNumberEqualByValue_andSetInAnotherOrder_areNotMismatches() throws {
        let db = try MotoTables(prefix: "verify-semantics")
        let source: Item = ["pk": .s("a"), "sk": .n("1"), "price": .n("1.50"), "tags": .ss(["x", "y", "z"]),
                            "nums": .ns(["10", "2.0"]), "bins": .bs([[1], [2]]), "m": .m(["n": .n("100"), "s": .ss(["p", "q"])])]
        let target: Item = ["pk": .s("a"), "sk": .n("1"), "price": .n("1.5"), "tags": .ss(["z", "x", "y"]),
                            "nums": .ns(["2", "1E1"]), "bins": .bs([[2], [1]]), "m": .m(["n": .n("1e2"), "s": .ss(["q", "p"])])]
        try MotoTables.put(db.source, db.table, [source])
        try MotoTables.put(db.target, db.table, [target])
        let collector = MismatchCollector()
        let summary = try db.verifier(db.options(), sink: collector).run()
        XCTAssertEqual(summary.compared, 1)
        XCTAssertEqual(summary.equal, 1)
        XCTAssertEqual(summary.resolvedOnRecheck, 0, "equal at the first read, no re-check needed")
        XCTAssertEqual(collector.mismatches, [])
    }

    func testMissingExtraAndChangedItems_areReportedWithTheirKindAndAttribute() throws {
        let db = try MotoTables(prefix: "verify-diff")
        let items = (0..<40).map(MotoTables.item)
        try MotoTables.put(db.source, db.table, items)
        var targetItems = items.filter { $0["sk"] != .n("5") }             // missing in target
        targetItems.append(["pk": .s("only-in-target"), "sk": .n("99")])  // extra in target
        let changed = targetItems.firstIndex { $0["sk"] == .n("7") }!
        targetItems[changed]["price"] = .n("8.25")                         // changed attribute
        let nested = targetItems.firstIndex { $0["sk"] == .n("9") }!
        targetItems[nested]["map"] = .m(["list": .l([.n("38"), .s("x"), .m(["deep": .n("1")])]),
                                         "inner": .m(["n": .n("1.0"), "s": .ss(["p", "q"])])])  // nested change
        try MotoTables.put(db.target, db.table, targetItems)

        let path = dir + "/report.jsonl"
        let report = try MismatchReportFile(path: path, includeValues: false)
        let summary = try db.verifier(db.options(), sink: report).run()
        try report.finish()
        XCTAssertEqual(summary.compared, 40)
        XCTAssertEqual(summary.equal, 37)
        XCTAssertEqual(summary.missingInTarget, 1)
        XCTAssertEqual(summary.extraInTarget, 1)
        XCTAssertEqual(summary.different, 2)
        XCTAssertEqual(summary.targetItemsChecked, 40)
        XCTAssertEqual(summary.exitCode, VerifySummary.exitMismatches)

        let lines = try reportLines(path)
        XCTAssertEqual(lines.count, 4)
        func line(_ kind: String, sk: String) -> JSONValue? {
            lines.first { $0["kind"]?.stringValue == kind && $0["key"]?["sk"]?["N"]?.stringValue == sk }
        }
        XCTAssertEqual(line("missing_in_target", sk: "5")?["key"]?["pk"]?["S"]?.stringValue, "user#5")
        XCTAssertEqual(line("extra_in_target", sk: "99")?["key"]?["pk"]?["S"]?.stringValue, "only-in-target")
        let price = try XCTUnwrap(line("different", sk: "7"))
        XCTAssertEqual(price["attributes"]?[0]?["name"]?.stringValue, "price")
        XCTAssertEqual(price["attributes"]?[0]?["difference"]?.stringValue, "value_differs")
        XCTAssertEqual(price["attributes"]?.arrayValue?.count, 1)
        XCTAssertNil(price["attributes"]?[0]?["source"], "values only when asked for")
        let map = try XCTUnwrap(line("different", sk: "9"))
        XCTAssertEqual(map["attributes"]?[0]?["name"]?.stringValue, "map")
        XCTAssertEqual(map["attributes"]?[0]?["difference"]?.stringValue, "value_differs")
    }

    func testReportValues_areInTheFileOnly_andLogsHoldNoItemData() throws {
        let db = try MotoTables(prefix: "verify-leak")
        let source: Item = ["pk": .s("key-SENSITIVE-1"), "sk": .n("1"), "card": .s("4111-SOURCE-VALUE"), "same": .s("SAME-VALUE")]
        let target: Item = ["pk": .s("key-SENSITIVE-1"), "sk": .n("1"), "card": .s("4111-TARGET-VALUE"), "same": .s("SAME-VALUE")]
        try MotoTables.put(db.source, db.table, [source, ["pk": .s("key-SENSITIVE-2"), "sk": .n("2"), "x": .s("MISSING-VALUE")]])
        try MotoTables.put(db.target, db.table, [target])
        let path = dir + "/report.jsonl"
        let report = try MismatchReportFile(path: path, includeValues: true)
        let log = CapturedLog()
        let summary = try db.verifier(db.options(), sink: report, logger: log.logger).run()
        try report.finish()
        XCTAssertEqual(summary.different, 1)
        XCTAssertEqual(summary.missingInTarget, 1)

        let text = try String(contentsOfFile: path, encoding: .utf8)
        XCTAssertTrue(text.contains("4111-SOURCE-VALUE") && text.contains("4111-TARGET-VALUE"), "differing values are in the file")
        XCTAssertFalse(text.contains("SAME-VALUE"), "equal attributes are not")
        XCTAssertFalse(text.contains("MISSING-VALUE"), "a missing item's attributes are not")
        XCTAssertFalse(text.contains("moto-secret-never-logged") || text.contains("AKIDMOTO"), "no credentials")
        let permissions = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        XCTAssertEqual(permissions, 0o600)

        let logged = log.text
        XCTAssertTrue(logged.contains("verification finished"), logged)
        XCTAssertTrue(logged.contains("card"), "attribute names may be logged")
        for secret in ["SENSITIVE", "4111", "SAME-VALUE", "MISSING-VALUE", "moto-secret-never-logged"] {
            XCTAssertFalse(logged.contains(secret), "the log holds \(secret): \(logged)")
        }
    }

    func testItemWrittenToTheTargetAfterTheFirstRead_isNotReported() throws {
        let db = try MotoTables(prefix: "verify-inflight")
        let items = (0..<10).map(MotoTables.item)
        try MotoTables.put(db.source, db.table, items)
        var stale = items
        stale[3]["price"] = .n("0")          // the stream has not applied the update yet
        stale.remove(at: 6)                  // nor the insert
        try MotoTables.put(db.target, db.table, stale)
        let target = db.target, table = db.table
        let rechecked = Mutex<[Item]>([])
        // The "stream" catches up between the first comparison and the re-check.
        let hooks = VerifyHooks { keys in
            rechecked.withLock { $0 += keys }
            try? MotoTables.put(target, table, [items[3], items[6]])
        }
        let collector = MismatchCollector()
        let summary = try db.verifier(db.options(), sink: collector, hooks: hooks).run()
        XCTAssertEqual(Set(rechecked.withLock { $0 }.map { $0["sk"] }), [.n("3"), .n("6")])
        XCTAssertEqual(summary.compared, 10)
        XCTAssertEqual(summary.equal, 10)
        XCTAssertEqual(summary.resolvedOnRecheck, 2)
        XCTAssertEqual(summary.mismatches, 0)
        XCTAssertEqual(collector.mismatches, [])
        XCTAssertEqual(summary.exitCode, VerifySummary.exitInSync)
    }

    func testBackgroundWriteDuringTheRecheckDelay_isNotReported() throws {
        let db = try MotoTables(prefix: "verify-delay")
        let items = (0..<5).map(MotoTables.item)
        try MotoTables.put(db.source, db.table, items)
        try MotoTables.put(db.target, db.table, Array(items.prefix(4)))
        let target = db.target, table = db.table, late = items[4]
        // A writer that lands 300 ms after the start; the re-check waits 1 s.
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.3) { try? MotoTables.put(target, table, [late]) }
        let summary = try db.verifier(db.options { $0.recheckDelay = 1.0; $0.recheckAttempts = 1 }, sink: MismatchCollector()).run()
        XCTAssertEqual(summary.mismatches, 0)
        XCTAssertEqual(summary.resolvedOnRecheck, 1)
    }

    func testRepair_thenVerifyAgain_isInSync() throws {
        let db = try MotoTables(prefix: "verify-repair")
        let items = (0..<30).map(MotoTables.item)
        try MotoTables.put(db.source, db.table, items)
        var targetItems = Array(items.dropFirst(2))
        targetItems[0]["name"] = .s("wrong")
        targetItems.append(["pk": .s("stray"), "sk": .n("1000")])
        try MotoTables.put(db.target, db.table, targetItems)

        let first = try db.verifier(db.options { $0.repair = true }, sink: MismatchCollector()).run()
        XCTAssertEqual(first.missingInTarget, 2)
        XCTAssertEqual(first.different, 1)
        XCTAssertEqual(first.extraInTarget, 1)
        XCTAssertEqual(first.repaired, 4)
        XCTAssertEqual(first.exitCode, VerifySummary.exitInSync, "everything found was repaired and checked")

        let again = try db.verifier(db.options(), sink: MismatchCollector()).run()
        XCTAssertEqual(again.mismatches, 0)
        XCTAssertEqual(again.compared, 30)
        XCTAssertEqual(again.targetItemsChecked, 30)
        XCTAssertEqual(again.exitCode, VerifySummary.exitInSync)
    }

    func testSample_comparesTheRequestedNumberOfItems_overEverySegment() throws {
        let db = try MotoTables(prefix: "verify-sample")
        let items = (0..<120).map(MotoTables.item)
        try MotoTables.put(db.source, db.table, items)
        try MotoTables.put(db.target, db.table, items)
        let summary = try db.verifier(db.options { $0.scope = .sample(10); $0.segments = 4 }, sink: MismatchCollector()).run()
        XCTAssertEqual(summary.compared, 10)
        XCTAssertEqual(summary.targetItemsChecked, 10)
        XCTAssertEqual(summary.equal, 10)
        XCTAssertEqual(summary.exitCode, VerifySummary.exitInSync)
    }

    func testSegmentsScope_comparesOnlyThatSegment() throws {
        let db = try MotoTables(prefix: "verify-segments")
        let items = (0..<80).map(MotoTables.item)
        try MotoTables.put(db.source, db.table, items)
        try MotoTables.put(db.target, db.table, items)
        var counted = 0
        for segment in 0..<4 {
            var expected = 0
            var start: Item?
            repeat {
                let page = try db.source.scan(table: db.table, segment: segment, totalSegments: 4, exclusiveStartKey: start)
                expected += page.items.count
                start = page.lastEvaluatedKey
            } while start != nil
            let scope = try VerifyScope.parseSegments("\(segment)/4")
            let summary = try db.verifier(db.options { $0.scope = scope }, sink: MismatchCollector()).run()
            XCTAssertEqual(summary.compared, expected, "segment \(segment)")
            XCTAssertEqual(summary.equal, expected)
            counted += summary.compared
        }
        XCTAssertEqual(counted, 80, "the segments cover the table once")
    }

    func testKeysScope_comparesJustThoseKeys() throws {
        let db = try MotoTables(prefix: "verify-keys")
        let items = (0..<20).map(MotoTables.item)
        try MotoTables.put(db.source, db.table, items)
        try MotoTables.put(db.target, db.table, items.filter { $0["sk"] != .n("4") })
        let path = dir + "/keys.jsonl"
        try """
            {"pk":{"S":"user#1"},"sk":{"N":"1"}}
            {"pk":{"S":"user#4"},"sk":{"N":"4"}}
            {"pk":{"S":"nobody"},"sk":{"N":"1"}}
            """.write(toFile: path, atomically: true, encoding: .utf8)
        let keys = try KeysFile.read(path: path, keySchema: MotoTables.keySchema)
        let collector = MismatchCollector()
        let summary = try db.verifier(db.options { $0.scope = .keys(keys) }, sink: collector).run()
        XCTAssertEqual(summary.compared, 3)
        XCTAssertEqual(summary.equal, 2, "a key absent from both sides is in sync")
        XCTAssertEqual(summary.missingInTarget, 1)
        XCTAssertEqual(summary.targetItemsChecked, 0, "a keys file is checked key by key, with no target scan")
        XCTAssertEqual(collector.mismatches.map(\.key), [["pk": .s("user#4"), "sk": .n("4")]])
    }

    func testMissingTable_isAFailureOfTheComparison() throws {
        let db = try MotoTables(prefix: "verify-notable")
        var options = db.options()
        options.targetTable = "no-such-table-\(UUID().uuidString.prefix(6))"
        try MotoTables.put(db.source, db.table, [MotoTables.item(1)])
        XCTAssertThrowsError(try db.verifier(options, sink: MismatchCollector()).run()) { error in
            XCTAssertTrue("\(error)".contains("BatchGetItem on the target failed"), "\(error)")
            XCTAssertTrue("\(error)".contains("ResourceNotFoundException"), "\(error)")
        }
    }

    func testUnreachableEndpoint_isAFailureOfTheComparison() throws {
        let db = try MotoTables(prefix: "verify-unreachable")
        let dead = DynamoDBClient(endpoint: Endpoint(url: "http://127.0.0.1:9", region: "us-east-1", service: .dynamodb, isCustom: true),
                                  credentials: StaticCredentialProvider(accessKeyId: "a", secretAccessKey: "b"),
                                  transport: CurlHTTPClient(), retry: RetryPolicy(maxAttempts: 1))
        let verifier = Verifier(options: db.options(), source: dead, targets: [db.target], sink: MismatchCollector())
        XCTAssertThrowsError(try verifier.run()) { error in
            XCTAssertTrue("\(error)".contains("Scan on the source failed"), "\(error)")
        }
    }
}
