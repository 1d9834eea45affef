import Backfill
import DynamoModel
import Foundation
import XCTest

final class ExportFileReaderTests: XCTestCase {
    private let schema = KeySchema(partitionKey: "pk", sortKey: "sk")

    /// A record as the tests compare it.
    struct Seen: Equatable {
        var file: String
        var line: Int
        var record: ExportRecord
        var key: Item
    }

    private func open(_ fixture: ExportFixture) throws -> (ExportManifest, any ExportStorage) {
        let root = try fixture.writeToTemporaryDirectory()
        let location = try ExportLocation(parsing: root)
        let storage = try location.storage(s3: nil)
        return (try ExportManifest.load(from: storage, location: location), storage)
    }

    /// Reads every file; returns the records in order.
    static func readAll(_ manifest: ExportManifest, _ storage: any ExportStorage, schema: KeySchema) throws -> [Seen] {
        var seen: [Seen] = []
        for file in manifest.files {
            let summary = try ExportFileReader().read(file: file, storage: storage, keySchema: schema) { line, record, key in
                seen.append(Seen(file: file.key, line: line, record: record, key: key.attributes))
            }
            XCTAssertEqual(summary.items, file.itemCount)
            XCTAssertEqual(summary.recordsHandedOut, file.itemCount)
            XCTAssertEqual(summary.md5Checksum, file.md5Checksum)
        }
        return seen
    }

    /// 3,000 items over five files: plain, an empty gzip, a zero-byte file,
    /// a multi-member gzip, and a large one.
    static func fullFixture(prefix: String = "exports/2024") -> (ExportFixture, [Int: String]) {
        var fixture = ExportFixture(prefix: prefix)
        var fileOf: [Int: String] = [:]
        let plan: [(String, Range<Int>, Int)] = [
            ("part-0", 0..<700, 1), ("part-empty-gzip", 700..<700, 1), ("part-zero-bytes", 700..<700, 0),
            ("part-multi", 700..<1500, 4), ("part-big", 1500..<3000, 1),
        ]
        for (name, range, members) in plan {
            let key = fixture.addDataFile(name, lines: range.map(ExportFixture.fullLine), members: members)
            for i in range { fileOf[i] = key }
        }
        fixture.finish()
        return (fixture, fileOf)
    }

    func testFullExport_handsOutEveryItemOnce_inFileAndLineOrder() throws {
        let (fixture, _) = Self.fullFixture()
        let (manifest, storage) = try open(fixture)
        XCTAssertEqual(manifest.itemCount, 3000)
        XCTAssertEqual(manifest.files.count, 5)
        let seen = try Self.readAll(manifest, storage, schema: schema)
        XCTAssertEqual(seen.count, 3000)
        for (i, record) in seen.enumerated() {
            XCTAssertEqual(record.record, .put(item: Array(ExportFixture.item(i).utf8), writeTimestampMicros: nil))
            XCTAssertEqual(record.key, ["pk": .s("user#\(i)"), "sk": .n("\(i)")])
        }
        XCTAssertEqual(seen[700].file, "data/part-multi.json.gz")
        XCTAssertEqual(seen[700].line, 1)
        XCTAssertEqual(seen[2999].line, 1500)
    }

    func testIncrementalExport_putsAndDeletes_fromTheSharedDataFolder() throws {
        var fixture = ExportFixture(type: .incremental)
        fixture.addDataFile("inc-1", lines: (0..<600).map { ExportFixture.incrementalLine($0, delete: $0 % 3 == 0) }, members: 2)
        fixture.addDataFile("inc-2", lines: [])
        fixture.finish()
        let (manifest, storage) = try open(fixture)
        XCTAssertEqual(manifest.files.map(\.key), ["../data/inc-1.json.gz", "../data/inc-2.json.gz"])
        let seen = try Self.readAll(manifest, storage, schema: schema)
        XCTAssertEqual(seen.count, 600)
        for (i, record) in seen.enumerated() {
            let micros = Int64(1_709_280_000_000_000 + i)
            if i % 3 == 0 {
                XCTAssertEqual(record.record, .delete(keys: Array("{\"pk\":{\"S\":\"user#\(i)\"},\"sk\":{\"N\":\"\(i)\"}}".utf8),
                                                      writeTimestampMicros: micros))
            } else {
                XCTAssertEqual(record.record, .put(item: Array(ExportFixture.item(i).utf8), writeTimestampMicros: micros))
            }
            XCTAssertEqual(record.key, ["pk": .s("user#\(i)"), "sk": .n("\(i)")])
        }
    }

    func testResume_skipsLinesAlreadyApplied_butStillCountsAndChecksumsThem() throws {
        var fixture = ExportFixture()
        fixture.addDataFile("a", lines: (0..<500).map(ExportFixture.fullLine), members: 3)
        fixture.finish()
        let (manifest, storage) = try open(fixture)
        var lines: [Int] = []
        let summary = try ExportFileReader().read(file: manifest.files[0], storage: storage, keySchema: schema,
                                                  skipLines: 321) { line, record, key in
            lines.append(line)
            XCTAssertEqual(key.attributes["sk"], .n("\(line - 1)"))
            XCTAssertEqual(record.payload, Array(ExportFixture.item(line - 1).utf8))
        }
        XCTAssertEqual(lines, Array(322...500))
        XCTAssertEqual(summary.items, 500)
        XCTAssertEqual(summary.recordsHandedOut, 179)

        // Skipping everything hands out nothing and still verifies the file.
        var none = 0
        try ExportFileReader().read(file: manifest.files[0], storage: storage, keySchema: schema, skipLines: 500) { _, _, _ in none += 1 }
        XCTAssertEqual(none, 0)
        var wrongSum = manifest.files[0]
        wrongSum.md5Checksum = "AAAAAAAAAAAAAAAAAAAAAA=="
        XCTAssertThrowsError(try ExportFileReader().read(file: wrongSum, storage: storage, keySchema: schema, skipLines: 500) { _, _, _ in }) { error in
            XCTAssertEqual((error as? ExportError)?.code, .checksumMismatch)
        }
        XCTAssertThrowsError(try ExportFileReader().read(file: manifest.files[0], storage: storage, keySchema: schema, skipLines: 501) { _, _, _ in }) { error in
            XCTAssertEqual((error as? ExportError)?.code, .resumeBeyondEnd)
        }
    }

    func testCorruptGzip_namesFileAndLine() throws {
        var fixture = ExportFixture()
        fixture.addDataFile("bad", lines: (0..<400).map(ExportFixture.fullLine)) { bytes in
            // A sound first member of 200 lines, then a member whose first
            // deflate block has the reserved block type 3.
            let text = (0..<400).map { ExportFixture.fullLine($0) + "\n" }
            var broken = Gzip.compress(Array(text[200...].joined().utf8))
            broken[10] |= 0x06
            bytes = Gzip.compress(Array(text[..<200].joined().utf8)) + broken
        }
        fixture.finish()
        let (manifest, storage) = try open(fixture)
        var handed = 0
        XCTAssertThrowsError(try ExportFileReader().read(file: manifest.files[0], storage: storage, keySchema: schema) { _, _, _ in handed += 1 }) { error in
            guard let error = error as? ExportError else { return XCTFail("\(error)") }
            XCTAssertEqual(error.code, .corruptData, "\(error)")
            XCTAssertTrue(error.file?.hasSuffix("/data/bad.json.gz") == true, "\(error)")
            XCTAssertEqual(error.line, 201)
            XCTAssertTrue("\(error)".hasSuffix("bad.json.gz, line 201: corrupt gzip data: invalid block type"), "\(error)")
        }
        XCTAssertEqual(handed, 200)
    }

    func testDamagedBytes_neverPassSilently() throws {
        // Random damage shows up as a zlib error, a line that is no longer
        // DynamoDB JSON, or at the latest as a checksum mismatch.
        for seed in 0..<8 {
            var fixture = ExportFixture()
            fixture.addDataFile("damaged", lines: (0..<300).map(ExportFixture.fullLine)) { bytes in
                let at = 20 + (bytes.count - 40) * seed / 8
                bytes[at] ^= UInt8(1 << (seed % 8))
            }
            fixture.finish()
            let (manifest, storage) = try open(fixture)
            XCTAssertThrowsError(try ExportFileReader().read(file: manifest.files[0], storage: storage, keySchema: schema) { _, _, _ in }) { error in
                let code = (error as? ExportError)?.code
                XCTAssertTrue([.corruptData, .invalidLine, .checksumMismatch].contains(code), "seed \(seed): \(error)")
            }
        }
    }

    func testTruncatedGzip_isAnError_evenAfterRecordsWereHandedOut() throws {
        var fixture = ExportFixture()
        fixture.addDataFile("cut", lines: (0..<400).map(ExportFixture.fullLine), withChecksum: false) { bytes in
            bytes.removeLast(bytes.count / 3)
        }
        fixture.finish()
        let (manifest, storage) = try open(fixture)
        var handed = 0
        XCTAssertThrowsError(try ExportFileReader().read(file: manifest.files[0], storage: storage, keySchema: schema) { _, _, _ in handed += 1 }) { error in
            XCTAssertEqual((error as? ExportError)?.code, .truncatedData, "\(error)")
            XCTAssertEqual((error as? ExportError)?.line, handed + 1)
            XCTAssertTrue("\(error)".contains("cut.json.gz, line \(handed + 1): the file ends inside a gzip stream"), "\(error)")
        }
        XCTAssertGreaterThan(handed, 0, "records come out before the end is known")
    }

    func testChecksumMismatch_isReportedAtTheEnd() throws {
        var fixture = ExportFixture()
        fixture.addDataFile("a", lines: (0..<50).map(ExportFixture.fullLine), md5: MD5Hasher.base64Digest(of: [1, 2, 3]))
        fixture.finish()
        let (manifest, storage) = try open(fixture)
        var handed = 0
        XCTAssertThrowsError(try ExportFileReader().read(file: manifest.files[0], storage: storage, keySchema: schema) { _, _, _ in handed += 1 }) { error in
            guard let error = error as? ExportError else { return XCTFail("\(error)") }
            XCTAssertEqual(error.code, .checksumMismatch)
            XCTAssertNil(error.line)
            XCTAssertTrue(error.file?.hasSuffix("data/a.json.gz") == true)
            XCTAssertTrue(error.message.contains("the manifest says \(MD5Hasher.base64Digest(of: [1, 2, 3]))"), error.message)
        }
        XCTAssertEqual(handed, 50, "the caller must not mark the file done: the error comes after the records")
    }

    func testLineThatIsNotDynamoDBJSON_namesFileAndLine_notTheContent() throws {
        var fixture = ExportFixture()
        var lines = (0..<10).map(ExportFixture.fullLine)
        lines[6] = "{\"Item\":{\"pk\":{\"S\":\"private@example.com\"},\"sk\":{\"N\":\"6\"},\"v\":{\"X\":\"1\"}}}"
        fixture.addDataFile("mixed", lines: lines)
        fixture.finish()
        let (manifest, storage) = try open(fixture)
        var handed: [Int] = []
        XCTAssertThrowsError(try ExportFileReader().read(file: manifest.files[0], storage: storage, keySchema: schema) { line, _, _ in handed.append(line) }) { error in
            guard let error = error as? ExportError else { return XCTFail("\(error)") }
            XCTAssertEqual(error.code, .invalidLine)
            XCTAssertEqual(error.line, 7)
            XCTAssertTrue(error.file?.hasSuffix("/exports/2024/AWSDynamoDB/01700000000000-a1b2c3d4/data/mixed.json.gz") == true, "\(error)")
            XCTAssertTrue("\(error)".contains("mixed.json.gz, line 7: \"Item\": invalid DynamoDB JSON at byte"), "\(error)")
            XCTAssertFalse("\(error)".contains("private@example.com"))
        }
        XCTAssertEqual(handed, Array(1...6))
    }

    func testItemCountMismatch() throws {
        var fixture = ExportFixture()
        fixture.addDataFile("a", lines: (0..<20).map(ExportFixture.fullLine), itemCount: 21)
        fixture.finish()
        let (manifest, storage) = try open(fixture)
        XCTAssertThrowsError(try ExportFileReader().read(file: manifest.files[0], storage: storage, keySchema: schema) { _, _, _ in }) { error in
            XCTAssertEqual((error as? ExportError)?.code, .itemCountMismatch)
            XCTAssertTrue("\(error)".contains("the file holds 20 items, the manifest says 21"), "\(error)")
        }
    }

    func testMissingDataFile_isFileMissing() throws {
        var fixture = ExportFixture()
        let key = fixture.addDataFile("gone", lines: [ExportFixture.fullLine(1)])
        fixture.finish()
        let root = try fixture.writeToTemporaryDirectory()
        try FileManager.default.removeItem(atPath: root + "/data/gone.json.gz")
        let location = try ExportLocation(parsing: root)
        let storage = try location.storage(s3: nil)
        let manifest = try ExportManifest.load(from: storage, location: location)
        XCTAssertThrowsError(try ExportFileReader().read(file: manifest.files[0], storage: storage, keySchema: schema) { _, _, _ in }) { error in
            XCTAssertEqual((error as? ExportError)?.code, .fileMissing)
            XCTAssertEqual((error as? ExportError)?.file, root + "/data/gone.json.gz", key)
        }
    }

    func testCallerErrors_passThroughUnchanged() throws {
        struct Stop: Error {}
        var fixture = ExportFixture()
        fixture.addDataFile("a", lines: (0..<20).map(ExportFixture.fullLine))
        fixture.finish()
        let (manifest, storage) = try open(fixture)
        XCTAssertThrowsError(try ExportFileReader().read(file: manifest.files[0], storage: storage, keySchema: schema) { line, _, _ in
            if line == 5 { throw Stop() }
        }) { error in
            XCTAssertTrue(error is Stop, "\(error)")
        }
    }

    func testBlankLines_areNotItems() throws {
        var fixture = ExportFixture()
        fixture.addDataFile("a", lines: [ExportFixture.fullLine(0), "", "  \r", ExportFixture.fullLine(1)], itemCount: 2)
        fixture.finish()
        let (manifest, storage) = try open(fixture)
        var lines: [Int] = []
        try ExportFileReader().read(file: manifest.files[0], storage: storage, keySchema: schema) { line, _, _ in lines.append(line) }
        XCTAssertEqual(lines, [1, 4])
    }

    /// Fails the first `failures` reads after `afterChunks` chunks, as a
    /// connection reset mid-object would.
    final class FlakyStorage: ExportStorage, @unchecked Sendable {
        // Used by one test thread only.
        let inner: LocalExportStorage
        var failures: Int
        let afterChunks: Int
        var streams = 0

        init(_ inner: LocalExportStorage, failures: Int, afterChunks: Int) {
            self.inner = inner
            self.failures = failures
            self.afterChunks = afterChunks
        }

        func location(of key: String) -> String { inner.location(of: key) }
        func readAll(_ key: String, maxBytes: Int) throws -> [UInt8] { try inner.readAll(key, maxBytes: maxBytes) }
        func stream(_ key: String, onChunk: (UnsafeRawBufferPointer) throws -> Void) throws {
            streams += 1
            var chunks = 0
            try inner.stream(key) { chunk in
                if failures > 0 && chunks == afterChunks {
                    failures -= 1
                    throw ExportError(.storageFailed, "connection reset", file: location(of: key))
                }
                chunks += 1
                try onChunk(chunk)
            }
        }
    }

    func testStorageFailureMidFile_restartsTheFile_handingOutEachLineOnce() throws {
        var fixture = ExportFixture()
        fixture.addDataFile("a", lines: (0..<2000).map(ExportFixture.fullLine))
        fixture.finish()
        let root = try fixture.writeToTemporaryDirectory()
        let manifest = try ExportManifest.load(from: LocalExportStorage(root: root), exportId: fixture.exportId)
        let flaky = FlakyStorage(LocalExportStorage(root: root, chunkSize: 4096), failures: 2, afterChunks: 5)
        var lines: [Int] = []
        let summary = try ExportFileReader().read(file: manifest.files[0], storage: flaky, keySchema: schema, skipLines: 3) { line, _, _ in
            lines.append(line)
        }
        XCTAssertEqual(flaky.streams, 3)
        XCTAssertEqual(lines, Array(4...2000))
        XCTAssertEqual(summary.recordsHandedOut, 1997)
        XCTAssertEqual(summary.items, 2000)

        let broken = FlakyStorage(LocalExportStorage(root: root, chunkSize: 4096), failures: 10, afterChunks: 5)
        XCTAssertThrowsError(try ExportFileReader(restartsAfterStorageFailure: 1).read(
            file: manifest.files[0], storage: broken, keySchema: schema) { _, _, _ in }) { error in
            XCTAssertEqual((error as? ExportError)?.code, .storageFailed)
        }
        XCTAssertEqual(broken.streams, 2)
    }
}
