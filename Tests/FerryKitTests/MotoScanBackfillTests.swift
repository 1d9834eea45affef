import AWSClient
import Dispatch
import DynamoModel
@testable import FerryKit
import Foundation
import Logging
import Replication
import XCTest

final class MotoScanBackfillTests: TemporaryDirectoryTestCase {
    private func setUp(_ url: String, items: Int) throws -> (String, FerryConfig) {
        let table = "scan-\(UUID().uuidString.prefix(6))"
        let key = [KeySchemaElement(attributeName: "pk", keyType: "HASH"), KeySchemaElement(attributeName: "sk", keyType: "RANGE")]
        let attrs = [AttributeDefinition(attributeName: "pk", attributeType: "S"), AttributeDefinition(attributeName: "sk", attributeType: "N")]
        let source = MotoStreamTests.client(url, region: "us-east-1")
        _ = try source.createTable(TableDescription(tableName: table, keySchema: key, attributeDefinitions: attrs))
        _ = try MotoStreamTests.client(url, region: "us-west-2").createTable(TableDescription(tableName: table, keySchema: key, attributeDefinitions: attrs))
        var i = 0
        while i < items {
            var writes: [WriteRequest] = []
            for j in i..<min(i + 25, items) {
                var w = DynamoJSONWriter()
                w.writeItem(["pk": .s("p\(j % 13)"), "sk": .n(String(j)), "blob": .b([UInt8(j % 256)]), "tags": .ss(["a", "b\(j)"]),
                             "m": .m(["n": .n("\(j).5"), "l": .l([.bool(true), .null])])])
                writes.append(.put(item: w.bytes[...]))
            }
            XCTAssertEqual(try source.batchWriteItem(table: table, writes: writes).count, 0)
            i += 25
        }
        var c = motoConfig(url, table: table)
        c.state.backfill = dir + "/backfill.json"
        c.state.deadLetter = dir + "/dead.jsonl"
        c.state.status = dir + "/status.json"
        c.backfill.segments = 3
        c.stream.lanes = 2
        return (table, c)
    }

    func testParallelScan_copiesEveryItem() throws {
        let url = try MotoStreamTests.motoURL()
        let (table, config) = try setUp(url, items: 300)
        let backfill = try ScanBackfill(config: config, services: try Services(config: config, environment: [:]), logger: Logger(label: "t"))
        let summary = try backfill.run(keySchema: KeySchema(partitionKey: "pk", sortKey: "sk"))
        XCTAssertTrue(summary.complete)
        XCTAssertEqual(summary.items, 300)
        XCTAssertTrue(try MotoStreamTests.inSync(url, table))
        let progress = try XCTUnwrap(BackfillProgress.load(path: config.state.backfill, source: "scan:\(table)"))
        XCTAssertTrue(progress.finished)
        XCTAssertEqual(progress.segments.count, 3)
    }

    func testSixtyFourSegments_areReadByAFixedNumberOfThreads() throws {
        let url = try MotoStreamTests.motoURL()
        var (table, config) = try setUp(url, items: 100)
        config.backfill.segments = 64
        config.backfill.readers = 2
        config.stream.writers = 2
        let backfill = try ScanBackfill(config: config, services: try Services(config: config, environment: [:]), logger: Logger(label: "t"))
        let before = ProcessThreads.current() ?? 0
        var summary: ScanBackfill.Summary?
        let peak = try ProcessThreads.peak { summary = try backfill.run(keySchema: KeySchema(partitionKey: "pk", sortKey: "sk")) }
        XCTAssertEqual(summary?.complete, true)
        XCTAssertEqual(summary?.items, 100)
        XCTAssertTrue(try MotoStreamTests.inSync(url, table))
        // 2 readers, 2 writers, the sampler and a few of Dispatch's own: far from one per segment.
        XCTAssertLessThanOrEqual(peak - before, 12, "threads went from \(before) to \(peak) for 64 segments")
    }

    func testStopInTheMiddle_thenResume_copiesTheRestOnly() throws {
        let url = try MotoStreamTests.motoURL()
        let (table, base) = try setUp(url, items: 400)
        var slow = base
        slow.backfill.itemsPerSecond = 60
        let first = try ScanBackfill(config: slow, services: try Services(config: slow, environment: [:]), logger: Logger(label: "t"))
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.4) { first.stop() }
        let partial = try first.run(keySchema: KeySchema(partitionKey: "pk", sortKey: "sk"))
        XCTAssertFalse(partial.complete)
        XCTAssertLessThan(partial.items, 400)
        let saved = try XCTUnwrap(BackfillProgress.load(path: base.state.backfill, source: "scan:\(table)"))
        XCTAssertFalse(saved.finished)
        let resumedFrom = saved.segments.values.reduce(0) { $0 + $1.applied }

        let second = try ScanBackfill(config: base, services: try Services(config: base, environment: [:]), logger: Logger(label: "t"))
        let rest = try second.run(keySchema: KeySchema(partitionKey: "pk", sortKey: "sk"))
        XCTAssertTrue(rest.complete)
        XCTAssertEqual(rest.items, 400 - resumedFrom, "the second run skips what the first one applied")
        XCTAssertTrue(try MotoStreamTests.inSync(url, table))
    }

    func testProgressOfAnotherTable_isRefused() throws {
        let url = try MotoStreamTests.motoURL()
        let (_, config) = try setUp(url, items: 5)
        try BackfillProgress(source: "scan:other-table").save(path: config.state.backfill)
        XCTAssertThrowsError(try ScanBackfill(config: config, services: try Services(config: config, environment: [:]), logger: Logger(label: "t"))) {
            XCTAssertTrue("\($0)".contains("belongs to scan:other-table"), "\($0)")
        }
    }
}
