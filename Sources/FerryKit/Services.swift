import AWSClient
import DynamoModel
import Foundation
import Logging
import Replication

/// A setup problem found before any work starts (a missing table, no
/// stream, keys that do not match). Says what to do about it.
public struct SetupError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// The clients a command needs, built from the configuration the way the
/// AWS SDKs would build them, plus the target (Alternator, or DynamoDB
/// when replicating back after cut-over).
public struct Services: Sendable {
    public let config: FerryConfig
    public let source: DynamoDBClient
    public let streams: DynamoDBStreamsClient
    public let s3: S3Client
    /// One client per configured node; calls go through ``targetNodes``.
    public let targetClients: [DynamoDBClient]
    /// The target's URLs: the configured ones, or DynamoDB's regional endpoint.
    public let targetEndpoints: [String]
    /// The target's nodes, shared by every command's calls to the target,
    /// so one node's failure is seen (and set aside) once, for all.
    public let targetNodes: TargetNodes
    /// Alternator as the source (``FerryConfig/Source/endpoints``): its
    /// nodes for DynamoDB calls; nil for DynamoDB.
    public let sourceNodes: TargetNodes?
    public let retryCounters: RetryCounters

    public init(config: FerryConfig, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        self.config = config
        let counters = RetryCounters()
        retryCounters = counters
        let shared = try? SharedConfigFiles.load(environment: environment, profile: config.source.profile)
        var overrides: [AWSService: String] = [:]
        overrides[.dynamodb] = config.source.endpoint
        overrides[.dynamodbStreams] = config.source.streamsEndpoint ?? config.source.endpoint
        overrides[.s3] = config.source.s3Endpoint
        let resolver: EndpointResolver
        do {
            resolver = try EndpointResolver(region: config.source.region ?? (config.source.isAlternator ? "us-east-1" : nil), endpoints: overrides, environment: environment,
                                            profileRegion: shared?.region)
        } catch {
            throw SetupError("source: \(error)")
        }

        var http = HTTPClientOptions()
        http.userAgent = config.userAgent
        let credentials = Self.awsCredentials(config.source.credentials, profile: config.source.profile,
                                              environment: environment, http: http)
        let retry = RetryPolicy(onEvent: counters.record)
        if config.source.isAlternator {
            // Reverse replication: Alternator's nodes serve DynamoDB and
            // Streams calls alike; each protocol goes round robin over them.
            let alternatorCredentials = Self.alternatorCredentials(config.source.credentials, side: "source")
            let region = config.source.region ?? "us-east-1"
            func nodes(_ service: AWSService, _ prefix: String) -> TargetNodes {
                TargetNodes(clients: config.source.endpoints.map { url in
                    AWSJSONClient(endpoint: Endpoint(url: url, region: region, service: service, isCustom: true),
                                  targetPrefix: prefix, credentials: alternatorCredentials,
                                  transport: CurlHTTPClient(options: http), retry: retry)
                }, role: "source", logger: Logger(label: "ferry.source"))
            }
            sourceNodes = nodes(.dynamodb, DynamoDBClient.targetPrefix)
            source = sourceNodes!.client
            streams = DynamoDBStreamsClient(json: nodes(.dynamodbStreams, DynamoDBStreamsClient.targetPrefix).json)
        } else {
            sourceNodes = nil
            source = DynamoDBClient(endpoint: try resolver.endpoint(for: .dynamodb), credentials: credentials,
                                    transport: CurlHTTPClient(options: http), retry: retry)
            streams = DynamoDBStreamsClient(endpoint: try resolver.endpoint(for: .dynamodbStreams), credentials: credentials,
                                            transport: CurlHTTPClient(options: http), retry: retry)
        }
        s3 = S3Client(endpoint: try resolver.endpoint(for: .s3), credentials: credentials,
                      transport: CurlHTTPClient(options: http), retry: retry)

        var targetHTTP = HTTPClientOptions(caBundlePath: config.target.caBundle)
        targetHTTP.userAgent = config.userAgent
        // With leases a write must end (or be abandoned) within a sixth of
        // a lease: the holder stops writing that long before a taker may start.
        if config.coordination.mode == .lease { targetHTTP.totalTimeout = config.leaseRequestTimeout }
        let targetCredentials = Self.targetCredentials(config, environment: environment, http: targetHTTP)
        targetEndpoints = try Self.targetEndpoints(config, environment: environment)
        targetClients = targetEndpoints.map { url in
            DynamoDBClient(endpoint: Endpoint(url: url, region: config.target.region, service: .dynamodb, isCustom: true),
                           credentials: targetCredentials, transport: CurlHTTPClient(options: targetHTTP),
                           retry: RetryPolicy(onEvent: counters.record))
        }
        targetNodes = TargetNodes(clients: targetClients.map(\.json))
    }

    /// Alternator's keys when given; without authorization any keys work,
    /// so a fixed pair rather than the AWS chain.
    static func alternatorCredentials(_ pair: FerryConfig.KeyPair, side: String) -> StaticCredentialProvider {
        if let keyId = pair.accessKeyId {
            return StaticCredentialProvider(accessKeyId: keyId, secretAccessKey: pair.secretAccessKey ?? "", name: side)
        }
        return StaticCredentialProvider(accessKeyId: "ferry", secretAccessKey: "alternator-without-authorization",
                                        name: "\(side)-anonymous")
    }

    /// The target: every call goes round robin over its nodes, moving on
    /// when a node does not answer.
    public var target: DynamoDBClient { targetNodes.client }

    /// Discovery of the target's nodes, building clients the way the
    /// configured endpoints are built.
    public func nodeDiscovery(for target: AlternatorTarget, logger: Logger) -> NodeDiscovery {
        let base = targetClients[0]
        let transport = CurlHTTPClient(options: HTTPClientOptions(connectTimeout: 2, totalTimeout: 5, caBundlePath: config.target.caBundle))
        let options = HTTPClientOptions(caBundlePath: config.target.caBundle)
        let region = config.target.region
        let counters = retryCounters
        return NodeDiscovery(seeds: config.target.endpoints, transport: transport, target: target, logger: logger) { url in
            DynamoDBClient(endpoint: Endpoint(url: url, region: region, service: .dynamodb, isCustom: true),
                           credentials: base.credentialProvider, transport: CurlHTTPClient(options: options),
                           retry: RetryPolicy(onEvent: counters.record))
        }
    }

    /// The source table's stream: the configured ARN, or the table's latest
    /// stream. A table without a stream gets the command that enables one.
    public func streamArn() throws -> String {
        if let arn = config.source.streamArn { return arn }
        guard let table = config.source.table else { throw SetupError("source.table or source.stream_arn is required") }
        let description = try source.describeTable(table)
        guard description.streamEnabled, let arn = description.latestStreamArn else {
            throw SetupError("""
                table \(table) has no DynamoDB stream. Enable one with NEW_AND_OLD_IMAGES (or NEW_IMAGE), e.g.
                  aws dynamodb update-table --table-name \(table) \
                --stream-specification StreamEnabled=true,StreamViewType=NEW_AND_OLD_IMAGES
                """)
        }
        return arn
    }

    /// Checks that the target table exists with the same primary key.
    public func checkTargetTable(keySchema: KeySchema) throws {
        guard let table = config.target.table else { throw SetupError("target.table is required") }
        let description: TableDescription
        switch Result(catching: { () throws(AWSClientError) in try target.describeTable(table) }) {
        case .success(let found):
            description = found
        case .failure(let error):
            if error.serviceError?.code == "ResourceNotFoundException" {
                throw SetupError("target table \(table) does not exist on \(targetEndpoints.joined(separator: ", ")): create it with `ferry create-table`")
            }
            throw error
        }
        guard let targetKey = description.primaryKey, targetKey == keySchema else {
            throw SetupError("target table \(table) has key \(Self.describe(description.primaryKey)) but the source has \(Self.describe(keySchema))")
        }
    }

    /// The AWS credential chain of one side (the source, or a DynamoDB
    /// target): explicit keys from the configuration, then the environment,
    /// the shared profile files, the ECS container endpoint, EC2 instance
    /// metadata; refreshed before they expire.
    static func awsCredentials(_ keys: FerryConfig.KeyPair, profile: String?, environment: [String: String],
                               http: HTTPClientOptions) -> RefreshingCredentialProvider {
        var explicit: Credentials?
        if let keyId = keys.accessKeyId {
            explicit = Credentials(accessKeyId: keyId, secretAccessKey: keys.secretAccessKey ?? "", sessionToken: keys.sessionToken)
        }
        let metadata = CurlHTTPClient(options: HTTPClientOptions(connectTimeout: 1, totalTimeout: 2))
        let chain = CredentialChain.default(explicit: explicit, environment: environment, transport: CurlHTTPClient(options: http),
                                            metadataTransport: metadata, profile: profile)
        return RefreshingCredentialProvider(chain)
    }

    /// DynamoDB: the AWS chain, as for the source. Alternator: its own keys
    /// when given; without authorization any keys work, so a fixed pair
    /// rather than the AWS chain (which might find and send real AWS keys).
    static func targetCredentials(_ config: FerryConfig, environment: [String: String],
                                  http: HTTPClientOptions) -> any CredentialProvider {
        let keys = config.target.credentials
        switch config.target.type {
        case .dynamodb:
            return awsCredentials(keys, profile: config.target.profile, environment: environment, http: http)
        case .alternator:
            return alternatorCredentials(keys, side: "target")
        }
    }

    /// The configured endpoints; for DynamoDB without any, the endpoint the
    /// AWS SDKs would use for `target.region` (`AWS_ENDPOINT_URL_DYNAMODB`,
    /// `AWS_ENDPOINT_URL`, then `https://dynamodb.<region>.amazonaws.com`).
    static func targetEndpoints(_ config: FerryConfig, environment: [String: String]) throws -> [String] {
        guard config.target.type == .dynamodb, config.target.endpoints.isEmpty else { return config.target.endpoints }
        let shared = try? SharedConfigFiles.load(environment: environment, profile: config.target.profile)
        do {
            let resolver = try EndpointResolver(region: config.target.region, environment: environment, profileRegion: shared?.region)
            return [try resolver.endpoint(for: .dynamodb).url]
        } catch {
            throw SetupError("target: \(error)")
        }
    }

    static func describe(_ key: KeySchema?) -> String {
        guard let key else { return "(none)" }
        return key.sortKey.map { "(\(key.partitionKey), \($0))" } ?? "(\(key.partitionKey))"
    }
}

extension FerryConfig {
    /// `ferry/<version>`, and in lease mode the worker: server logs show who wrote.
    public var userAgent: String {
        "ferry/\(FerryBuild.version)" + (coordination.mode == .lease ? " worker/\(leaseWorkerId)" : "")
    }

    /// The request timeout that leases allow for (a sixth of a lease).
    public var leaseRequestTimeout: Double { Double(coordination.leaseSeconds) / 6 }

    /// This process's name in the lease table: configured, or host:pid.
    public var leaseWorkerId: String {
        coordination.workerId ?? "\(ProcessInfo.processInfo.hostName):\(ProcessInfo.processInfo.processIdentifier)"
    }

    /// The writer pool's settings (the `stream.*` lane settings serve the
    /// backfill too).
    public var writerPoolOptions: WriterPoolOptions {
        var pool = WriterPoolOptions()
        pool.lanes = stream.lanes
        pool.writers = stream.writers
        pool.batchSize = stream.batchSize
        pool.lingerSeconds = Double(stream.lingerMilliseconds) / 1000
        pool.laneCapacity = stream.laneCapacity
        pool.maxWriteUnitsPerSecond = target.maxWriteUnitsPerSecond
        return pool
    }
}

extension Services {
    /// A writer pool into the target table whose acknowledgements go to a
    /// backfill's unit tracker.
    func backfillPool(keySchema: KeySchema, counters: ReplicationCounters, tracker: UnitTracker) throws -> WriterPool {
        let target = AlternatorTarget(table: config.target.table!, nodes: targetNodes)
        return WriterPool(options: config.writerPoolOptions, target: target, keySchema: keySchema, counters: counters,
                          deadLetters: try DeadLetterFile(path: config.state.deadLetter),
                          onApplied: { tracker.applied($0) })
    }
}
