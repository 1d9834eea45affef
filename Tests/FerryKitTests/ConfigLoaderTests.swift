import FerryKit
import Foundation
import XCTest

final class ConfigLoaderTests: XCTestCase {
    private var dir: String!

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "ferry-config-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    private func write(_ yaml: String) throws -> String {
        let path = dir + "/ferry.yaml"
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    private let sample = """
        source:
          table: orders
          region: eu-west-1
        target:
          endpoints:
            - http://scylla-1:8000
            - http://scylla-2:8000
          table: orders_copy
          access_key_id: alternator
          secret_access_key: s3cr3t-from-file
        stream:
          batch_size: 100
          lanes: 4
          start_position: latest
          modify_as: update
        log:
          format: json
        """

    func testFile_isRead() throws {
        let config = try ConfigLoader(environment: [:]).load(file: try write(sample))
        XCTAssertEqual(config.source.table, "orders")
        XCTAssertEqual(config.source.region, "eu-west-1")
        XCTAssertEqual(config.target.endpoints, ["http://scylla-1:8000", "http://scylla-2:8000"])
        XCTAssertEqual(config.target.credentials.secretAccessKey, "s3cr3t-from-file")
        XCTAssertEqual(config.stream.batchSize, 100)
        XCTAssertEqual(config.stream.lanes, 4)
        XCTAssertEqual(config.stream.startPosition, .latest)
        XCTAssertEqual(config.stream.modifyAs, .update)
        XCTAssertEqual(config.log.format, .json)
        XCTAssertEqual(config.stream.lingerMilliseconds, 5, "unset settings keep their defaults")
    }

    func testLayers_environmentBeatsFile_flagsBeatEnvironment() throws {
        let env = ["FERRY_STREAM_LANES": "6", "FERRY_STREAM_BATCH_SIZE": "50", "FERRY_TARGET_ENDPOINTS": "http://a:1, http://b:2"]
        let config = try ConfigLoader(environment: env).load(file: try write(sample), overrides: [("stream.batch_size", "10")])
        XCTAssertEqual(config.stream.lanes, 6)
        XCTAssertEqual(config.stream.batchSize, 10)
        XCTAssertEqual(config.target.endpoints, ["http://a:1", "http://b:2"])
    }

    func testBadValues_nameTheSettingAndWhereItCameFrom() throws {
        let path = try write("""
            stream:
              batch_size: 150
              start_position: yesterday
            target:
              endpoints: [scylla:8000]
            source:
              endpoints: [scylla-1]
            coordination:
              checkpoints_per_second: 0
            """)
        XCTAssertThrowsError(try ConfigLoader(environment: ["FERRY_STREAM_LANES": "many"]).load(file: path)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("ferry.yaml:2: stream.batch_size: 150 is out of range: use 1 to 100"), text)
            XCTAssertTrue(text.contains("stream.start_position: 'yesterday' is not one of: trim-horizon, latest"), text)
            XCTAssertTrue(text.contains("target.endpoints: 'scylla:8000' is not an http:// or https:// URL"), text)
            XCTAssertTrue(text.contains("stream.lanes (from FERRY_STREAM_LANES): 'many' is not a whole number"), text)
            XCTAssertTrue(text.contains("source.endpoints: 'scylla-1' is not an http:// or https:// URL"), text)
            XCTAssertTrue(text.contains("coordination.checkpoints_per_second: 0 is out of range: use 1 to 1000"), text)
        }
    }

    func testUnknownSetting_suggestsTheClosestName() throws {
        let path = try write("stream:\n  bach_size: 10\n")
        XCTAssertThrowsError(try ConfigLoader(environment: [:]).load(file: path)) { error in
            XCTAssertTrue("\(error)".contains("stream.bach_size: unknown setting (did you mean stream.batch_size?)"), "\(error)")
        }
    }

    func testBrokenYAML_andMissingFile_areClear() throws {
        let path = try write("source:\n  table: [unclosed\n")
        XCTAssertThrowsError(try ConfigLoader(environment: [:]).load(file: path)) { error in
            XCTAssertTrue("\(error)".contains("is not valid YAML"), "\(error)")
        }
        XCTAssertThrowsError(try ConfigLoader(environment: [:]).load(file: dir + "/nope.yaml")) { error in
            XCTAssertTrue("\(error)".contains("cannot read the configuration file"), "\(error)")
        }
    }

    func testValidate_listsWhatIsMissing() throws {
        let config = try ConfigLoader(environment: [:]).load(file: nil)
        XCTAssertThrowsError(try config.validate([.stream])) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("source.table or source.stream_arn is required"), text)
            XCTAssertTrue(text.contains("target.endpoints is required"), text)
            XCTAssertTrue(text.contains("target.table is required"), text)
        }
        var half = config
        half.source.table = "t"
        half.target.endpoints = ["http://x:1"]
        half.target.table = "t"
        half.target.credentials.accessKeyId = "id"
        half.state.checkpoint = "/no/such/dir/ckpt.json"
        XCTAssertThrowsError(try half.validate([.stream])) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("target.secret_access_key is missing"), text)
            XCTAssertTrue(text.contains("state.checkpoint: directory /no/such/dir does not exist"), text)
        }
    }

    func testRedactedSummary_hidesSecrets() throws {
        let config = try ConfigLoader(environment: ["FERRY_SOURCE_SECRET_ACCESS_KEY": "env-secret"]).load(file: try write(sample))
        let text = config.redactedSummary.map { "\($0.0)=\($0.1)" }.joined(separator: " ")
        XCTAssertFalse(text.contains("s3cr3t-from-file"))
        XCTAssertFalse(text.contains("env-secret"))
        XCTAssertTrue(text.contains("target.secret_access_key=<redacted>"))
    }
}
