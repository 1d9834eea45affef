import AWSClient
@testable import FerryKit
import Foundation
import XCTest

/// `target.type: dynamodb`: replicating back into DynamoDB after cut-over.
final class DynamoTargetConfigTests: TemporaryDirectoryTestCase {
    private let targetSecret = "tArGeT-sEcReT-0123"
    private let targetToken = "tArGeT-sEsSiOn-ToKeN-4567"

    /// A DynamoDB target in eu-west-1, Alternator as the source, state files in the test's directory.
    private func load(_ environment: [String: String] = [:], overrides: [(String, String)] = []) throws -> FerryConfig {
        let defaults: [(String, String)] = [
            ("source.table", "orders"), ("source.region", "us-east-1"), ("source.endpoint", "http://scylla-1:8000"),
            ("source.access_key_id", "alternator"), ("source.secret_access_key", "alternator-secret"),
            ("target.type", "dynamodb"), ("target.table", "orders"), ("target.region", "eu-west-1"),
            ("state.checkpoint", dir + "/ckpt.json"), ("state.status", dir + "/status.json"),
            ("state.dead_letter", dir + "/dead.jsonl"),
        ]
        return try ConfigLoader(environment: environment).load(file: nil, overrides: defaults + overrides)
    }

    /// An environment with no real home, no instance metadata, plus `extra`.
    private func environment(_ extra: [String: String] = [:]) -> [String: String] {
        ["HOME": dir, "AWS_EC2_METADATA_DISABLED": "true"].merging(extra) { $1 }
    }

    func testBatchSizeAbove25_isRefusedForADynamoDBTarget_sayingWhyAndWhatToSet() throws {
        let config = try load(overrides: [("stream.batch_size", "26")])
        XCTAssertThrowsError(try config.validate([.stream])) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("stream.batch_size is 26"), text)
            XCTAssertTrue(text.contains("at most 25 writes per BatchWriteItem"), text)
            XCTAssertTrue(text.contains("set stream.batch_size to 25 or less"), text)
        }
        XCTAssertNoThrow(try load(overrides: [("stream.batch_size", "25")]).validate([.stream]))
        var alternator = try load(overrides: [("stream.batch_size", "100"), ("target.type", "alternator")])
        alternator.target.endpoints = ["http://scylla-2:8000"]
        XCTAssertNoThrow(try alternator.validate([.stream]), "Alternator takes up to 100")
    }

    func testTargetType_comesFromTheEnvironmentToo_andDefaultsToAlternator() throws {
        XCTAssertEqual(FerryConfig().target.type, .alternator)
        let fromEnvironment = try ConfigLoader(environment: ["FERRY_TARGET_TYPE": "dynamodb",
                                                             "FERRY_TARGET_MAX_WRITE_UNITS_PER_SECOND": "400"]).load(file: nil)
        XCTAssertEqual(fromEnvironment.target.type, .dynamodb)
        XCTAssertEqual(fromEnvironment.writerPoolOptions.maxWriteUnitsPerSecond, 400)
        XCTAssertThrowsError(try ConfigLoader(environment: ["FERRY_TARGET_TYPE": "cassandra"]).load(file: nil)) { error in
            XCTAssertTrue("\(error)".contains("is not one of: alternator, dynamodb"), "\(error)")
        }
    }

    func testWithoutEndpoints_aDynamoDBTargetIsValid_andUsesTheRegionalEndpoint() throws {
        let config = try load()
        XCTAssertNoThrow(try config.validate([.stream]))
        XCTAssertEqual(try Services(config: config, environment: environment()).targetEndpoints,
                       ["https://dynamodb.eu-west-1.amazonaws.com"])
        XCTAssertEqual(try Services(config: config, environment: environment(["AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:5055"]))
                        .targetEndpoints, ["http://127.0.0.1:5055"], "the AWS SDK's endpoint variable, as for the source")
        let given = try load(overrides: [("target.endpoints", "http://127.0.0.1:5055")])
        XCTAssertEqual(try Services(config: given, environment: environment()).targetEndpoints, ["http://127.0.0.1:5055"])

        let alternator = try load(overrides: [("target.type", "alternator")])
        XCTAssertThrowsError(try alternator.validate([.stream])) { error in
            XCTAssertTrue("\(error)".contains("target.endpoints is required"), "\(error)")
        }
    }

    func testDynamoDBTarget_takesCredentialsFromTheEnvironment_alternatorNever() throws {
        let env = environment(["AWS_ACCESS_KEY_ID": "AKIDENVTARGET", "AWS_SECRET_ACCESS_KEY": targetSecret,
                               "AWS_SESSION_TOKEN": targetToken])
        let services = try Services(config: try load(), environment: env)
        let found = try XCTUnwrap(try services.targetClients[0].credentialProvider.credentials())
        XCTAssertEqual(found, Credentials(accessKeyId: "AKIDENVTARGET", secretAccessKey: targetSecret, sessionToken: targetToken))

        var alternator = try load(overrides: [("target.type", "alternator")])
        alternator.target.endpoints = ["http://scylla-2:8000"]
        let anonymous = try Services(config: alternator, environment: env).targetClients[0].credentialProvider.credentials()
        XCTAssertEqual(anonymous?.accessKeyId, "ferry", "AWS keys from the environment are never sent to Alternator")
    }

    func testDynamoDBTarget_takesCredentialsFromItsOwnProfile() throws {
        let aws = dir + "/.aws"
        try FileManager.default.createDirectory(atPath: aws, withIntermediateDirectories: true)
        try """
            [default]
            aws_access_key_id = AKIDDEFAULT
            aws_secret_access_key = default-secret
            [reverse]
            aws_access_key_id = AKIDREVERSE
            aws_secret_access_key = \(targetSecret)
            """.write(toFile: aws + "/credentials", atomically: true, encoding: .utf8)
        let config = try load(overrides: [("target.profile", "reverse")])
        let services = try Services(config: config, environment: environment())
        XCTAssertEqual(try services.targetClients[0].credentialProvider.credentials()?.accessKeyId, "AKIDREVERSE")
        XCTAssertEqual(try services.source.credentialProvider.credentials()?.accessKeyId, "alternator",
                       "the source keeps its own keys")
        let withoutProfile = try Services(config: try load(), environment: environment())
        XCTAssertEqual(try withoutProfile.targetClients[0].credentialProvider.credentials()?.accessKeyId, "AKIDDEFAULT")
    }

    func testExplicitTargetKeys_withSessionToken_beatTheEnvironment() throws {
        let config = try load(overrides: [("target.access_key_id", "AKIDCONFIG"), ("target.secret_access_key", targetSecret),
                                          ("target.session_token", targetToken)])
        let services = try Services(config: config, environment: environment(["AWS_ACCESS_KEY_ID": "AKIDENV",
                                                                              "AWS_SECRET_ACCESS_KEY": "env-secret"]))
        let found = try services.targetClients[0].credentialProvider.credentials()
        XCTAssertEqual(found, Credentials(accessKeyId: "AKIDCONFIG", secretAccessKey: targetSecret, sessionToken: targetToken))
    }

    func testSecretsStayOutOfErrorsAndTheSummary() throws {
        let config = try load(overrides: [("target.access_key_id", "AKIDCONFIG"), ("target.secret_access_key", targetSecret),
                                          ("target.session_token", targetToken), ("stream.batch_size", "50"),
                                          ("target.discover_nodes", "true")])
        XCTAssertThrowsError(try config.validate([.stream])) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("stream.batch_size") && text.contains("target.discover_nodes"), text)
            XCTAssertFalse(text.contains(targetSecret) || text.contains(targetToken), text)
        }
        let summary = config.redactedSummary.map { "\($0.0)=\($0.1)" }.joined(separator: " ")
        XCTAssertFalse(summary.contains(targetSecret) || summary.contains(targetToken), summary)
        XCTAssertTrue(summary.contains("target.session_token=<redacted>"), summary)
        XCTAssertTrue(summary.contains("target.type=dynamodb"), summary)
        XCTAssertThrowsError(try ConfigLoader(environment: [:]).load(file: nil, overrides: [("target.max_write_units_per_second", "-1")]))
    }

    func testTargetProfile_withAlternator_isRefused() throws {
        var config = try load(overrides: [("target.type", "alternator"), ("target.profile", "reverse")])
        config.target.endpoints = ["http://scylla-2:8000"]
        XCTAssertThrowsError(try config.validate([.target])) { error in
            XCTAssertTrue("\(error)".contains("target.profile is used only with target.type: dynamodb"), "\(error)")
        }
    }
}
