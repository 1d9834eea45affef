import Backfill
import Foundation
import XCTest

final class ExportManifestTests: XCTestCase {
    private func load(_ fixture: ExportFixture) throws -> ExportManifest {
        let root = try fixture.writeToTemporaryDirectory()
        let location = try ExportLocation(parsing: root)
        return try ExportManifest.load(from: try location.storage(s3: nil), location: location)
    }

    func testFullExport_summaryAndFiles() throws {
        var fixture = ExportFixture()
        fixture.addDataFile("a", lines: (0..<3).map(ExportFixture.fullLine))
        fixture.addDataFile("b", lines: [], members: 0)
        fixture.finish()
        let manifest = try load(fixture)
        XCTAssertEqual(manifest.exportId, "01700000000000-a1b2c3d4")
        XCTAssertEqual(manifest.exportArn, "arn:aws:dynamodb:us-east-1:123456789012:table/Orders/export/01700000000000-a1b2c3d4")
        XCTAssertEqual(manifest.tableArn, "arn:aws:dynamodb:us-east-1:123456789012:table/Orders")
        XCTAssertEqual(manifest.exportType, .full)
        XCTAssertEqual(manifest.outputFormat, .dynamoDBJSON)
        XCTAssertEqual(manifest.itemCount, 3)
        XCTAssertEqual(manifest.exportTime?.timeIntervalSince1970 ?? 0, 1_709_287_199.789, accuracy: 0.0005)
        XCTAssertEqual(manifest.startTime?.timeIntervalSince1970 ?? 0, 1_709_287_200.123, accuracy: 0.0005)
        XCTAssertNotNil(manifest.endTime)
        XCTAssertNil(manifest.exportFromTime)
        XCTAssertEqual(manifest.manifestFilesKey, "manifest-files.json")
        XCTAssertEqual(manifest.files.map(\.key), ["data/a.json.gz", "data/b.json.gz"])
        XCTAssertEqual(manifest.files.map(\.itemCount), [3, 0])
        XCTAssertEqual(manifest.files[0].dataFileS3Key, "exports/2024/AWSDynamoDB/01700000000000-a1b2c3d4/data/a.json.gz")
        XCTAssertEqual(manifest.files[0].md5Checksum?.count, 24)
        XCTAssertEqual(manifest.files[1].md5Checksum, "1B2M2Y8AsgTpgAmY7PhCfg==", "MD5 of no bytes")
        XCTAssertEqual(manifest.files[0].etag, "0123456789abcdef0123456789abcdef-1")
    }

    func testIncrementalExport_readsTheWindowAndSharedDataFolder() throws {
        var fixture = ExportFixture(type: .incremental)
        fixture.addDataFile("c", lines: [ExportFixture.incrementalLine(1, delete: false)])
        fixture.finish()
        let manifest = try load(fixture)
        XCTAssertEqual(manifest.exportType, .incremental)
        XCTAssertEqual(manifest.exportFromTime?.timeIntervalSince1970, 1_709_280_000)
        XCTAssertEqual(manifest.exportToTime?.timeIntervalSince1970, 1_709_283_600)
        XCTAssertEqual(manifest.outputView, "NEW_AND_OLD_IMAGES")
        XCTAssertEqual(manifest.files.map(\.key), ["../data/c.json.gz"])
        XCTAssertEqual(manifest.files.map(\.exportType), [.incremental])
    }

    func testIonExport_isRejectedWithWhatToDo() throws {
        var fixture = ExportFixture()
        fixture.format = "ION"
        fixture.finish()
        XCTAssertThrowsError(try load(fixture)) { error in
            XCTAssertEqual((error as? ExportError)?.code, .unsupportedFormat)
            XCTAssertTrue("\(error)".contains("not supported: export with --export-format DYNAMODB_JSON"), "\(error)")
            XCTAssertTrue("\(error)".contains("manifest-summary.json"), "\(error)")
        }
    }

    func testMissingSummary_saysWhichFolderToGive() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-empty-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let location = try ExportLocation(parsing: dir)
        XCTAssertThrowsError(try ExportManifest.load(from: try location.storage(s3: nil), location: location)) { error in
            guard let error = error as? ExportError else { return XCTFail("\(error)") }
            XCTAssertEqual(error.code, .manifestMissing)
            XCTAssertEqual(error.file, dir + "/manifest-summary.json")
            XCTAssertTrue(error.message.contains("AWSDynamoDB/<exportId>/"), error.message)
        }
    }

    func testMissingFilesManifest_isManifestMissing() throws {
        var fixture = ExportFixture()
        fixture.finish()
        let root = try fixture.writeToTemporaryDirectory()
        try FileManager.default.removeItem(atPath: root + "/manifest-files.json")
        let location = try ExportLocation(parsing: root)
        XCTAssertThrowsError(try ExportManifest.load(from: try location.storage(s3: nil), location: location)) { error in
            XCTAssertEqual((error as? ExportError)?.code, .manifestMissing)
            XCTAssertEqual((error as? ExportError)?.file, root + "/manifest-files.json")
        }
    }

    func testSummaryCount_mustMatchTheFiles() throws {
        var fixture = ExportFixture()
        fixture.addDataFile("a", lines: [ExportFixture.fullLine(1)])
        fixture.finish(summaryItemCount: 2)
        XCTAssertThrowsError(try load(fixture)) { error in
            XCTAssertEqual((error as? ExportError)?.code, .manifestInvalid)
            XCTAssertTrue("\(error)".contains("lists 1 items but manifest-summary.json says 2"), "\(error)")
        }
    }

    func testBadFields_nameTheFieldAndLine() throws {
        XCTAssertThrowsError(try ExportManifest.parseSummary(Array("{\"itemCount\":1}".utf8), exportId: "x", file: "s.json")) { error in
            XCTAssertEqual("\(error)", "s.json: manifestFilesS3Key is missing")
        }
        XCTAssertThrowsError(try ExportManifest.parseSummary(Array("{\"exportType\":\"WEEKLY\"}".utf8), exportId: "x", file: "s.json")) { error in
            XCTAssertEqual((error as? ExportError)?.code, .manifestInvalid)
        }
        XCTAssertThrowsError(try ExportManifest.parseSummary(
            Array("{\"manifestFilesS3Key\":\"m\",\"itemCount\":1,\"exportTime\":\"yesterday\"}".utf8), exportId: "x", file: "s.json")) { error in
            XCTAssertEqual("\(error)", "s.json: exportTime is not an ISO 8601 time")
        }
        let files = "{\"dataFileS3Key\":\"data/a.json.gz\",\"itemCount\":1}\n\n{\"dataFileS3Key\":\"data/b.json.gz\",\"itemCount\":\"x\"}\n"
        XCTAssertThrowsError(try ExportManifest.parseFiles(Array(files.utf8), exportId: "x", type: .full, file: "f.json")) { error in
            XCTAssertEqual("\(error)", "f.json, line 3: itemCount is not a whole number")
        }
        XCTAssertThrowsError(try ExportManifest.parseFiles(Array("{\"itemCount\":1}\n".utf8), exportId: "x", type: .full, file: "f.json")) { error in
            XCTAssertEqual("\(error)", "f.json, line 1: dataFileS3Key is missing")
        }
    }
}
