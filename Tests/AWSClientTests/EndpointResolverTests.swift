@testable import AWSClient
import XCTest

final class EndpointResolverTests: XCTestCase {
    func testRegion_configBeatsEnvironmentBeatsProfile() throws {
        let env = ["AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "eu-central-1"]
        XCTAssertEqual(try EndpointResolver(region: "us-west-2", environment: env, profileRegion: "ap-south-1").region, "us-west-2")
        XCTAssertEqual(try EndpointResolver(region: nil, environment: env, profileRegion: "ap-south-1").region, "eu-west-1")
        XCTAssertEqual(try EndpointResolver(region: nil, environment: ["AWS_DEFAULT_REGION": "eu-central-1"]).region, "eu-central-1")
        XCTAssertEqual(try EndpointResolver(region: nil, environment: [:], profileRegion: "ap-south-1").region, "ap-south-1")
    }

    func testNoRegion_saysWhatToSet() {
        XCTAssertThrowsError(try EndpointResolver(region: nil, environment: [:])) { error in
            XCTAssertTrue("\(error)".contains("AWS_REGION"), "\(error)")
        }
        XCTAssertThrowsError(try EndpointResolver(region: "us east 1", environment: [:])) { error in
            XCTAssertTrue("\(error)".contains("not a region name"), "\(error)")
        }
    }

    func testStandardEndpoints() throws {
        let r = try EndpointResolver(region: "eu-west-1", environment: [:])
        XCTAssertEqual(try r.endpoint(for: .dynamodb).url, "https://dynamodb.eu-west-1.amazonaws.com")
        XCTAssertEqual(try r.endpoint(for: .dynamodbStreams).url, "https://streams.dynamodb.eu-west-1.amazonaws.com")
        XCTAssertEqual(try r.endpoint(for: .s3).url, "https://s3.eu-west-1.amazonaws.com")
        XCTAssertFalse(try r.endpoint(for: .dynamodb).isCustom)
        XCTAssertEqual(try EndpointResolver(region: "cn-north-1", environment: [:]).endpoint(for: .dynamodb).url,
                       "https://dynamodb.cn-north-1.amazonaws.com.cn")
    }

    func testOverrides_configThenServiceVariableThenGlobalVariable() throws {
        let env = ["AWS_ENDPOINT_URL": "http://global:1", "AWS_ENDPOINT_URL_DYNAMODB": "http://ddb:2/",
                   "AWS_ENDPOINT_URL_DYNAMODB_STREAMS": "http://streams:3", "AWS_ENDPOINT_URL_S3": "http://s3:4"]
        let r = try EndpointResolver(region: "us-east-1", endpoints: [.dynamodb: "https://configured:9"], environment: env)
        XCTAssertEqual(try r.endpoint(for: .dynamodb).url, "https://configured:9")
        XCTAssertEqual(try r.endpoint(for: .dynamodbStreams).url, "http://streams:3")
        XCTAssertEqual(try r.endpoint(for: .s3).url, "http://s3:4")
        let onlyGlobal = try EndpointResolver(region: "us-east-1", environment: ["AWS_ENDPOINT_URL": "http://global:1/"])
        XCTAssertEqual(try onlyGlobal.endpoint(for: .dynamodbStreams).url, "http://global:1")
        XCTAssertTrue(try onlyGlobal.endpoint(for: .s3).isCustom)
    }

    func testBadOverride_namesWhereItCameFrom() throws {
        let r = try EndpointResolver(region: "us-east-1", environment: ["AWS_ENDPOINT_URL_S3": "localhost:9000"])
        XCTAssertThrowsError(try r.endpoint(for: .s3)) { error in
            XCTAssertTrue("\(error)".contains("AWS_ENDPOINT_URL_S3"), "\(error)")
            XCTAssertTrue("\(error)".contains("http://"), "\(error)")
        }
    }

    func testS3Addressing_pathStyleForCustom_virtualHostedForAWS() throws {
        let custom = Endpoint(url: "http://127.0.0.1:5000", region: "us-east-1", service: .s3, isCustom: true)
        XCTAssertEqual(custom.s3URL(bucket: "b", key: "AWSDynamoDB/x/data/a b+c.json.gz"),
                       "http://127.0.0.1:5000/b/AWSDynamoDB/x/data/a%20b%2Bc.json.gz")
        let aws = try EndpointResolver(region: "us-east-1", environment: [:]).endpoint(for: .s3)
        XCTAssertEqual(aws.s3URL(bucket: "my-bucket", key: "k"), "https://my-bucket.s3.us-east-1.amazonaws.com/k")
        XCTAssertEqual(aws.s3URL(bucket: "dotted.bucket", key: "k"), "https://s3.us-east-1.amazonaws.com/dotted.bucket/k")
    }
}
