import AWSClient
import DynamoModel
import StreamStandIn
import Synchronization
import XCTest

/// A stand-in with the real AWSClient clients pointed at it over libcurl.
/// Retries sleep for no time (the backoff is still computed and counted),
/// so fault tests run fast.
struct StandInHarness {
    let standIn: StreamStandIn
    let dynamo: DynamoDBClient
    let streams: DynamoDBStreamsClient
    let retries: RetryCounters

    init(_ configuration: StandInConfiguration = StandInConfiguration(), maxAttempts: Int = 5) throws {
        standIn = try StreamStandIn(configuration: configuration)
        let counters = RetryCounters()
        retries = counters
        let retry = RetryPolicy(
            maxAttempts: maxAttempts, budget: nil,
            environment: RetryEnvironment(now: { 0 }, sleep: { _ in true }, random: { 0.5 }),
            onEvent: counters.record)
        let credentials = StaticCredentialProvider(accessKeyId: "a", secretAccessKey: "b")
        let http = CurlHTTPClient(options: HTTPClientOptions(connectTimeout: 2, totalTimeout: 10))
        dynamo = DynamoDBClient(
            endpoint: Endpoint(url: standIn.baseURL, region: "us-east-1", service: .dynamodb, isCustom: true),
            credentials: credentials, transport: http, retry: retry)
        streams = DynamoDBStreamsClient(
            endpoint: Endpoint(url: standIn.baseURL, region: "us-east-1", service: .dynamodbStreams, isCustom: true),
            credentials: credentials, transport: http, retry: retry)
    }

    /// Reads a shard from TRIM_HORIZON until it is finished (closed shard)
    /// or a page comes back empty (open shard).
    func readShard(_ arn: String, _ shardID: String, limit: Int = 1000) throws -> (records: [StreamRecord], finished: Bool) {
        var iterator: String? = try streams.getShardIterator(arn: arn, shardId: shardID, position: .trimHorizon)
        var records: [StreamRecord] = []
        while let current = iterator {
            let page = try streams.getRecords(iterator: current, limit: limit)
            records += page.records
            iterator = page.nextShardIterator
            if page.records.isEmpty, iterator != nil { return (records, false) }
        }
        return (records, true)
    }
}

/// The AWS error code a call threw, or nil.
func serviceCode(_ body: () throws -> Void) -> String? {
    do {
        try body()
        return nil
    } catch let error as AWSClientError {
        return error.serviceError?.code ?? error.code
    } catch {
        return "\(error)"
    }
}

func item(_ pk: String, _ attributes: Item = [:]) -> Item {
    var item = attributes
    item["pk"] = .s(pk)
    return item
}

/// Compares decimal sequence numbers by value, as Ferry must.
func numericallyLess(_ a: String, _ b: String) -> Bool {
    a.count != b.count ? a.count < b.count : a < b
}
