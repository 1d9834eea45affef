import AWSClient
import Backfill
import DynamoModel
import Foundation
import XCTest

/// Reads exports uploaded to moto's S3 through ``S3ExportStorage``. moto is
/// started by scripts/test.sh; without it these tests fail, never skip.
final class MotoExportTests: XCTestCase {
    private let schema = KeySchema(partitionKey: "pk", sortKey: "sk")

    private struct MissingServer: Error, CustomStringConvertible {
        var description: String { "FERRY_MOTO_ENDPOINT is not set: run the tests with scripts/test.sh, which starts moto" }
    }

    private func s3() throws -> S3Client {
        guard let url = ProcessInfo.processInfo.environment["FERRY_MOTO_ENDPOINT"], !url.isEmpty else {
            throw MissingServer()  // a thrown error fails the test; it is not a skip
        }
        return S3Client(endpoint: Endpoint(url: url, region: "us-east-1", service: .s3, isCustom: true),
                        credentials: StaticCredentialProvider(accessKeyId: "AKIDFERRYTEST", secretAccessKey: "ferry-test-secret"),
                        transport: CurlHTTPClient(), retry: RetryPolicy(maxAttempts: 3))
    }

    private func upload(_ fixture: ExportFixture, to client: S3Client) throws -> String {
        let bucket = "ferry-export-\(UUID().uuidString.prefix(8).lowercased())"
        try client.createBucket(bucket)
        for (key, bytes) in fixture.objects { try client.putObject(bucket: bucket, key: key, body: bytes) }
        return bucket
    }

    private func readEverything(_ url: String, _ client: S3Client) throws -> (ExportManifest, [ExportFileReaderTests.Seen]) {
        let location = try ExportLocation(parsing: url)
        let storage = try location.storage(s3: client)
        let manifest = try ExportManifest.load(from: storage, location: location)
        return (manifest, try ExportFileReaderTests.readAll(manifest, storage, schema: schema))
    }

    func testFullExport_inS3_readsBackEveryItem_withKeysWithAndWithoutBucketAndPrefix() throws {
        let client = try s3()
        // Three manifest spellings of the same keys: as DynamoDB writes them
        // (prefix/AWSDynamoDB/<id>/…), without the prefix, with the bucket.
        let styles: [(String, (String) -> String)] = [
            ("full key", { $0 }),
            ("no prefix", { String($0[$0.range(of: "AWSDynamoDB/")!.lowerBound...]) }),
            ("bucket and prefix", { "some-bucket/" + $0 }),
        ]
        for (name, style) in styles {
            var fixture = ExportFixture()
            fixture.manifestKeyStyle = style
            fixture.addDataFile("p0", lines: (0..<400).map(ExportFixture.fullLine), members: 3)
            fixture.addDataFile("p1", lines: [])
            fixture.addDataFile("p2", lines: [], members: 0)
            fixture.addDataFile("p3", lines: (400..<1200).map(ExportFixture.fullLine))
            fixture.finish()
            let bucket = try upload(fixture, to: client)
            let (manifest, seen) = try readEverything("s3://\(bucket)/\(fixture.rootPrefix)", client)
            XCTAssertEqual(manifest.files.map(\.key), ["data/p0.json.gz", "data/p1.json.gz", "data/p2.json.gz", "data/p3.json.gz"], name)
            XCTAssertEqual(seen.count, 1200, name)
            for (i, record) in seen.enumerated() {
                XCTAssertEqual(record.record.payload, Array(ExportFixture.item(i).utf8), "\(name) item \(i)")
                XCTAssertEqual(record.key, ["pk": .s("user#\(i)"), "sk": .n("\(i)")])
            }
        }
    }

    func testIncrementalExport_inS3_readsTheSharedDataFolder() throws {
        let client = try s3()
        var fixture = ExportFixture(prefix: "", type: .incremental)
        fixture.addDataFile("i0", lines: (0..<300).map { ExportFixture.incrementalLine($0, delete: $0 % 2 == 1) })
        fixture.finish()
        let bucket = try upload(fixture, to: client)
        let (manifest, seen) = try readEverything("s3://\(bucket)/AWSDynamoDB/\(fixture.exportId)", client)
        XCTAssertEqual(manifest.exportType, .incremental)
        XCTAssertEqual(seen.count, 300)
        XCTAssertEqual(seen.filter { if case .delete = $0.record { true } else { false } }.count, 150)
        let storage = try ExportLocation(parsing: "s3://\(bucket)/AWSDynamoDB/\(fixture.exportId)").storage(s3: client)
        XCTAssertEqual(storage.location(of: manifest.files[0].key), "s3://\(bucket)/AWSDynamoDB/data/i0.json.gz")
    }

    func testErrorsInS3_nameTheObject_andCallerErrorsPassThrough() throws {
        let client = try s3()
        var fixture = ExportFixture()
        fixture.addDataFile("ok", lines: (0..<50).map(ExportFixture.fullLine))
        fixture.addDataFile("bad-sum", lines: (0..<5).map(ExportFixture.fullLine), md5: "AAAAAAAAAAAAAAAAAAAAAA==")
        fixture.finish()
        let bucket = try upload(fixture, to: client)
        let location = try ExportLocation(parsing: "s3://\(bucket)/\(fixture.rootPrefix)")
        let storage = try location.storage(s3: client)
        let manifest = try ExportManifest.load(from: storage, location: location)

        XCTAssertThrowsError(try ExportFileReader().read(file: manifest.files[1], storage: storage, keySchema: schema) { _, _, _ in }) { error in
            XCTAssertEqual((error as? ExportError)?.code, .checksumMismatch, "\(error)")
            XCTAssertEqual((error as? ExportError)?.file, "s3://\(bucket)/\(fixture.rootPrefix)data/bad-sum.json.gz")
        }

        struct Stop: Error {}
        XCTAssertThrowsError(try ExportFileReader().read(file: manifest.files[0], storage: storage, keySchema: schema) { line, _, _ in
            if line == 10 { throw Stop() }
        }) { error in
            XCTAssertTrue(error is Stop, "\(error)")
        }

        var missing = manifest.files[0]
        missing.key = "data/nope.json.gz"
        XCTAssertThrowsError(try ExportFileReader().read(file: missing, storage: storage, keySchema: schema) { _, _, _ in }) { error in
            XCTAssertEqual((error as? ExportError)?.code, .fileMissing, "\(error)")
            XCTAssertEqual((error as? ExportError)?.file, "s3://\(bucket)/\(fixture.rootPrefix)data/nope.json.gz")
        }

        let wrong = try ExportLocation(parsing: "s3://\(bucket)/elsewhere/AWSDynamoDB/\(fixture.exportId)/")
        XCTAssertThrowsError(try ExportManifest.load(from: try wrong.storage(s3: client), location: wrong)) { error in
            XCTAssertEqual((error as? ExportError)?.code, .manifestMissing, "\(error)")
        }
    }
}
