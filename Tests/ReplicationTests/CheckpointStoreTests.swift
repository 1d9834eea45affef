import Foundation
import Replication
import XCTest

final class CheckpointStoreTests: XCTestCase {
    private var dir: String!

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "ferry-ckpt-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: dir)
    }

    func testMissingFile_meansFirstRun() throws {
        XCTAssertNil(try FileCheckpointStore(path: dir + "/none.json").load())
    }

    func testSaveThenLoad_roundTrips_andLeavesNoTempFile() throws {
        let store = FileCheckpointStore(path: dir + "/ckpt.json")
        var checkpoint = Checkpoint(streamArn: "arn:aws:dynamodb:us-east-1:1:table/t/stream/x")
        checkpoint.shards["shardId-1"] = .init(sequence: SequenceNumber("4000000000000000000000000000000000000001"))
        checkpoint.shards["shardId-0"] = .init(sequence: SequenceNumber("7"), finished: true)
        try store.save(checkpoint)
        let loaded = try XCTUnwrap(store.load(for: "arn:aws:dynamodb:us-east-1:1:table/t/stream/x"))
        XCTAssertEqual(loaded.shards, checkpoint.shards)
        XCTAssertNotNil(loaded.updatedAt)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/ckpt.json.tmp"))
    }

    func testCheckpointOfAnotherStream_isRefused() throws {
        let store = FileCheckpointStore(path: dir + "/ckpt.json")
        try store.save(Checkpoint(streamArn: "arn:stream/A"))
        XCTAssertThrowsError(try store.load(for: "arn:stream/B")) { error in
            XCTAssertTrue("\(error)".contains("belongs to stream arn:stream/A, not arn:stream/B"), "\(error)")
        }
    }

    func testCorruptFile_givesClearError() throws {
        let path = dir + "/ckpt.json"
        try Data("{\"version\": 1, \"shards\": {\"s\": {\"sequence\": \"12x\", \"finished\": false}}}".utf8)
            .write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try FileCheckpointStore(path: path).load()) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("not a valid Ferry checkpoint"), text)
            XCTAssertTrue(text.contains("is not a sequence number"), text)
        }
    }

    func testNewerVersion_isRefused() throws {
        let path = dir + "/ckpt.json"
        try Data("{\"version\": 99, \"shards\": {}}".utf8).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try FileCheckpointStore(path: path).load()) { error in
            XCTAssertTrue("\(error)".contains("version 99"), "\(error)")
        }
    }

    func testUnwritableDirectory_namesThePath() {
        let store = FileCheckpointStore(path: "/nonexistent-dir-for-ferry/ckpt.json")
        XCTAssertThrowsError(try store.save(Checkpoint(streamArn: nil))) { error in
            XCTAssertTrue("\(error)".contains("/nonexistent-dir-for-ferry/ckpt.json.tmp"), "\(error)")
        }
    }
}
