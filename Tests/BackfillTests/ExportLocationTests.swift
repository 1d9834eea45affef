import Backfill
import XCTest

final class ExportLocationTests: XCTestCase {
    func testS3URL_withAndWithoutTrailingSlash_andEmptyPrefix() throws {
        let a = try ExportLocation(parsing: "s3://bucket/exports/2024/AWSDynamoDB/01700000000000-a1b2c3d4/")
        XCTAssertEqual(a.place, .s3(bucket: "bucket", rootPrefix: "exports/2024/AWSDynamoDB/01700000000000-a1b2c3d4/"))
        XCTAssertEqual(a.exportId, "01700000000000-a1b2c3d4")
        XCTAssertEqual(a.description, "s3://bucket/exports/2024/AWSDynamoDB/01700000000000-a1b2c3d4/")
        let b = try ExportLocation(parsing: "s3://bucket/exports/2024/AWSDynamoDB/01700000000000-a1b2c3d4")
        XCTAssertEqual(a, b)
        let c = try ExportLocation(parsing: "s3://bucket/AWSDynamoDB/0170-x")
        XCTAssertEqual(c.place, .s3(bucket: "bucket", rootPrefix: "AWSDynamoDB/0170-x/"))
    }

    func testS3URL_ofAnotherShape_isRejectedWithTheExpectedForm() {
        for text in ["s3://bucket", "s3://bucket/exports/", "s3:///AWSDynamoDB/x/", "s3://bucket/exports/AWSDynamoDB/",
                     "s3://bucket/exports/AWSDynamoDB/01/data/"] {
            XCTAssertThrowsError(try ExportLocation(parsing: text), text) { error in
                XCTAssertEqual((error as? ExportError)?.code, .invalidLocation)
                XCTAssertTrue("\(error)".contains("s3://bucket/prefix/AWSDynamoDB/<exportId>/"), "\(error)")
            }
        }
    }

    func testLocalDirectory_takesTheExportIdFromTheFolderName() throws {
        let location = try ExportLocation(parsing: "/data/exports/AWSDynamoDB/0170-abc/")
        XCTAssertEqual(location.place, .local(directory: "/data/exports/AWSDynamoDB/0170-abc"))
        XCTAssertEqual(location.exportId, "0170-abc")
        XCTAssertThrowsError(try ExportLocation(parsing: ""))
    }

    func testS3Location_needsAClient() throws {
        let location = try ExportLocation(parsing: "s3://bucket/AWSDynamoDB/0170-x")
        XCTAssertThrowsError(try location.storage(s3: nil)) { error in
            XCTAssertEqual((error as? ExportError)?.code, .invalidLocation)
        }
        XCTAssertTrue(try ExportLocation(parsing: "/tmp/x").storage(s3: nil) is LocalExportStorage)
    }

    func testRelativeKey_acceptsKeysWithOrWithoutBucketAndPrefix() throws {
        let id = "0170-abc"
        let expectations: [(String, String)] = [
            ("exports/2024/AWSDynamoDB/0170-abc/data/f1.json.gz", "data/f1.json.gz"),
            ("AWSDynamoDB/0170-abc/data/f1.json.gz", "data/f1.json.gz"),
            ("my-bucket/exports/2024/AWSDynamoDB/0170-abc/data/f1.json.gz", "data/f1.json.gz"),
            ("s3://my-bucket/exports/AWSDynamoDB/0170-abc/data/f1.json.gz", "data/f1.json.gz"),
            ("exports/2024/AWSDynamoDB/0170-abc/manifest-files.json", "manifest-files.json"),
            // Incremental exports share one data folder beside the export folders.
            ("exports/2024/AWSDynamoDB/data/f2.json.gz", "../data/f2.json.gz"),
            // A copy under another export id or a bare data key: the data/ suffix.
            ("elsewhere/AWSDynamoDB/0999-zzz/data/f3.json.gz", "data/f3.json.gz"),
            ("data/f4.json.gz", "data/f4.json.gz"),
            ("manifest-files.json", "manifest-files.json"),
        ]
        for (key, relative) in expectations {
            XCTAssertEqual(try ExportLocation.relativeKey(of: key, exportId: id), relative, key)
        }
    }

    func testRelativeKey_refusesToClimbOutOfTheExport() {
        for key in ["", "../../etc/passwd", "x/../../y", "AWSDynamoDB/0170-abc/data/", "data/../../z"] {
            XCTAssertThrowsError(try ExportLocation.relativeKey(of: key, exportId: "0170-abc"), key) { error in
                XCTAssertEqual((error as? ExportError)?.code, .manifestInvalid, key)
            }
        }
    }

    func testLocalStorage_resolvesTheSharedDataFolder() throws {
        let storage = LocalExportStorage(root: "/x/AWSDynamoDB/0170-abc")
        XCTAssertEqual(storage.location(of: "data/a.json.gz"), "/x/AWSDynamoDB/0170-abc/data/a.json.gz")
        XCTAssertEqual(storage.location(of: "../data/a.json.gz"), "/x/AWSDynamoDB/0170-abc/../data/a.json.gz")
    }
}
