import AWSClient
import Backfill
import Dispatch
import DynamoModel
@testable import FerryKit
import Foundation
import Logging
import Replication
import XCTest

/// `ferry backfill --export` against moto: exports written in DynamoDB's
/// layout, loaded from a directory and from S3; a full export followed by an
/// incremental one; a restart in the middle; a corrupt file.
final class MotoExportBackfillTests: TemporaryDirectoryTestCase {
    static func item(_ i: Int, version: Int = 0) -> Item {
        ["pk": .s("user#\(i % 50)"), "sk": .n(String(i)), "v": .n(String(version)), "name": .s("Zoë \"\(i)\" 日本\n"),
         "blob": .b([UInt8(i % 256), 0, 255]), "ok": .bool(i % 2 == 0), "none": .null,
         "m": .m(["l": .l([.n("1.50"), .s("x"), .m([:])])]), "ss": .ss(["a", "b\(i)"]), "ns": .ns(["1", "\(i).25"]),
         "bs": .bs([[1], [UInt8(i % 200)]])]
    }

    static func bytes(_ item: Item) -> [UInt8] {
        var w = DynamoJSONWriter()
        w.writeItem(item)
        return w.bytes
    }

    /// Tables in moto, a full export of `count` items and an incremental
    /// one; the source table holds the final state.
    private func prepare(_ url: String, count: Int) throws -> (table: String, full: String, incremental: String, config: FerryConfig) {
        let table = "export-\(UUID().uuidString.prefix(6))"
        let key = [KeySchemaElement(attributeName: "pk", keyType: "HASH"), KeySchemaElement(attributeName: "sk", keyType: "RANGE")]
        let attrs = [AttributeDefinition(attributeName: "pk", attributeType: "S"), AttributeDefinition(attributeName: "sk", attributeType: "N")]
        let source = MotoStreamTests.client(url, region: "us-east-1")
        _ = try source.createTable(TableDescription(tableName: table, keySchema: key, attributeDefinitions: attrs))
        _ = try MotoStreamTests.client(url, region: "us-west-2").createTable(TableDescription(tableName: table, keySchema: key, attributeDefinitions: attrs))

        let full = try ExportWriter(directory: dir + "/bucket/exports", exportId: "01700000000000-full0001", itemsPerFile: count / 3 + 1)
        var batch: [WriteRequest] = []
        for i in 0..<count {
            let bytes = Self.bytes(Self.item(i))
            try full.add(item: bytes)
            batch.append(.put(item: bytes[...]))
            if batch.count == 25 { _ = try source.batchWriteItem(table: table, writes: batch); batch = [] }
        }
        if !batch.isEmpty { _ = try source.batchWriteItem(table: table, writes: batch) }
        let fullRoot = try full.finish()

        let incremental = try ExportWriter(directory: dir + "/bucket/exports", exportId: "01700000000001-incr0001",
                                           type: .incremental, itemsPerFile: 40)
        for i in stride(from: 0, to: count, by: 7) {
            let keyItem: Item = ["pk": .s("user#\(i % 50)"), "sk": .n(String(i))]
            if i % 14 == 0 {
                try incremental.addChange(keys: Self.bytes(keyItem), newImage: nil, oldImage: Self.bytes(Self.item(i)), writeTimestampMicros: 1)
                try source.deleteItem(table: table, key: keyItem)
            } else {
                try incremental.addChange(keys: Self.bytes(keyItem), newImage: Self.bytes(Self.item(i, version: 2)),
                                          oldImage: Self.bytes(Self.item(i)), writeTimestampMicros: 2)
                try source.putItem(table: table, item: Self.item(i, version: 2))
            }
        }
        for i in count..<(count + 30) {
            let keyItem: Item = ["pk": .s("user#\(i % 50)"), "sk": .n(String(i))]
            try incremental.addChange(keys: Self.bytes(keyItem), newImage: Self.bytes(Self.item(i, version: 3)), oldImage: nil, writeTimestampMicros: 3)
            try source.putItem(table: table, item: Self.item(i, version: 3))
        }
        let incrementalRoot = try incremental.finish()

        var c = motoConfig(url, table: table)
        c.state.backfill = dir + "/backfill.json"
        c.state.deadLetter = dir + "/dead.jsonl"
        c.state.status = dir + "/status.json"
        c.stream.lanes = 3
        c.backfill.parallelFiles = 2
        return (table, fullRoot, incrementalRoot, c)
    }

    private let schema = KeySchema(partitionKey: "pk", sortKey: "sk")

    func testFullThenIncremental_fromADirectory_equalsTheSource() throws {
        let url = try MotoStreamTests.motoURL()
        let (table, full, incremental, config) = try prepare(url, count: 900)
        let backfill = try ExportBackfill(config: config, services: try Services(config: config, environment: [:]),
                                          logger: Logger(label: "t"), locations: [full, incremental])
        let summary = try backfill.run(keySchema: schema)
        XCTAssertTrue(summary.complete)
        XCTAssertTrue(try MotoStreamTests.inSync(url, table))
        let progress = try XCTUnwrap(BackfillProgress.load(path: config.state.backfill, source: "export:\(full),\(incremental)"))
        XCTAssertTrue(progress.finished)
        XCTAssertEqual(progress.files.values.filter(\.done).count, progress.files.count)
    }

    func testFromS3_andRestartInTheMiddle() throws {
        let url = try MotoStreamTests.motoURL()
        let (table, _, _, base) = try prepare(url, count: 600)
        let s3 = S3Client(endpoint: Endpoint(url: url, region: "us-east-1", service: .s3, isCustom: true),
                          credentials: StaticCredentialProvider(accessKeyId: "AKIDMOTO", secretAccessKey: "moto"), transport: CurlHTTPClient())
        let bucket = "ferry-\(UUID().uuidString.prefix(8).lowercased())"
        try s3.createBucket(bucket)
        let root = dir + "/bucket"
        let enumerator = FileManager.default.enumerator(atPath: root)!
        while let relative = enumerator.nextObject() as? String {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: root + "/" + relative, isDirectory: &isDir), !isDir.boolValue else { continue }
            try s3.putObject(bucket: bucket, key: relative, body: Array(try Data(contentsOf: URL(fileURLWithPath: root + "/" + relative))))
        }
        var config = base
        config.source.s3Endpoint = url
        config.stream.batchSize = 5
        let locations = ["s3://\(bucket)/exports/AWSDynamoDB/01700000000000-full0001/",
                         "s3://\(bucket)/exports/AWSDynamoDB/01700000000001-incr0001/"]
        let first = try ExportBackfill(config: config, services: try Services(config: config, environment: [:]),
                                       logger: Logger(label: "t"), locations: locations)
        let stopper = DispatchWorkItem { first.stop() }
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.15, execute: stopper)
        let partial = try first.run(keySchema: schema)
        let saved = try XCTUnwrap(BackfillProgress.load(path: config.state.backfill, source: "export:" + locations.joined(separator: ",")))
        XCTAssertEqual(partial.complete, saved.finished)

        let second = try ExportBackfill(config: config, services: try Services(config: config, environment: [:]),
                                        logger: Logger(label: "t"), locations: locations)
        let rest = try second.run(keySchema: schema)
        XCTAssertTrue(rest.complete)
        XCTAssertTrue(try MotoStreamTests.inSync(url, table))
        if !partial.complete {
            XCTAssertLessThan(rest.items, 600 + 30 + 129, "the second run skipped what the first applied")
        }
    }

    func testCorruptDataFile_namesTheFile_andIsNotMarkedDone() throws {
        let url = try MotoStreamTests.motoURL()
        let (_, full, _, config) = try prepare(url, count: 60)
        let data = full + "/data"
        let victim = try XCTUnwrap(FileManager.default.contentsOfDirectory(atPath: data).sorted().first)
        var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: data + "/" + victim)))
        bytes.removeLast(bytes.count / 2)  // truncated
        try Data(bytes).write(to: URL(fileURLWithPath: data + "/" + victim))
        let backfill = try ExportBackfill(config: config, services: try Services(config: config, environment: [:]),
                                          logger: Logger(label: "t"), locations: [full])
        XCTAssertThrowsError(try backfill.run(keySchema: schema)) { error in
            XCTAssertTrue("\(error)".contains(victim), "\(error)")
        }
        let progress = try XCTUnwrap(BackfillProgress.load(path: config.state.backfill, source: "export:\(full)"))
        XCTAssertFalse(progress.finished)
        XCTAssertFalse(progress.files.first { $0.key.hasSuffix(victim) }?.value.done ?? false)
    }
}
