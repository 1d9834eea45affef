import AWSClient
import DynamoModel
import Foundation
import Logging
import Synchronization
import Verify
import XCTest

/// Thrown (so the test fails, never skips) when moto's URL is not set.
struct MotoMissing: Error, CustomStringConvertible {
    var description: String { "FERRY_MOTO_ENDPOINT is not set: run the tests with scripts/test.sh, which starts moto" }
}

/// Two tables on moto's server: the source in us-east-1, the target (a
/// stand-in for Alternator) under the same name in us-west-2.
struct MotoTables {
    let url: String
    let table: String
    let source: DynamoDBClient
    let target: DynamoDBClient
    static let keySchema = KeySchema(partitionKey: "pk", sortKey: "sk")

    /// moto's URL from FERRY_MOTO_ENDPOINT; without it the test fails (scripts/test.sh starts moto).
    static func motoURL() throws -> String {
        guard let url = ProcessInfo.processInfo.environment["FERRY_MOTO_ENDPOINT"], !url.isEmpty else {
            throw MotoMissing()
        }
        return url
    }

    static func client(_ url: String, region: String) -> DynamoDBClient {
        DynamoDBClient(endpoint: Endpoint(url: url, region: region, service: .dynamodb, isCustom: true),
                       credentials: StaticCredentialProvider(accessKeyId: "AKIDMOTO", secretAccessKey: "moto-secret-never-logged"),
                       transport: CurlHTTPClient(), retry: RetryPolicy(maxAttempts: 3))
    }

    init(prefix: String) throws {
        url = try Self.motoURL()
        table = "\(prefix)-\(UUID().uuidString.prefix(8))"
        source = Self.client(url, region: "us-east-1")
        target = Self.client(url, region: "us-west-2")
        let key = [KeySchemaElement(attributeName: "pk", keyType: "HASH"), KeySchemaElement(attributeName: "sk", keyType: "RANGE")]
        let attrs = [AttributeDefinition(attributeName: "pk", attributeType: "S"), AttributeDefinition(attributeName: "sk", attributeType: "N")]
        _ = try source.createTable(TableDescription(tableName: table, keySchema: key, attributeDefinitions: attrs))
        _ = try target.createTable(TableDescription(tableName: table, keySchema: key, attributeDefinitions: attrs))
    }

    /// An item of every attribute type, nested maps and lists included.
    static func item(_ i: Int) -> Item {
        [
            "pk": .s("user#\(i % 7)"), "sk": .n(String(i)), "name": .s("Zoë \(i) \"q\""), "price": .n("\(i).50"),
            "blob": .b([UInt8(i % 256), 0, 255]), "flag": .bool(i % 2 == 0), "none": .null,
            "tags": .ss(["a", "b\(i)", "c"]), "nums": .ns(["1.5", String(i)]), "bins": .bs([[1], [2, UInt8(i % 256)]]),
            "map": .m(["list": .l([.n("38"), .s("x"), .m(["deep": .n("12345678901234567890123456789012345678")])]),
                       "inner": .m(["n": .n("1.0"), "s": .ss(["p", "q"])])]),
        ]
    }

    static func put(_ client: DynamoDBClient, _ table: String, _ items: [Item]) throws {
        var i = 0
        while i < items.count {
            let writes: [WriteRequest] = items[i..<min(i + 25, items.count)].map { item in
                var w = DynamoJSONWriter()
                w.writeItem(item)
                return .put(item: w.bytes[...])
            }
            XCTAssertEqual(try client.batchWriteItem(table: table, writes: writes).count, 0)
            i += 25
        }
    }

    func options(_ configure: (inout VerifyOptions) -> Void = { _ in }) -> VerifyOptions {
        var o = VerifyOptions(sourceTable: table, targetTable: table, keySchema: Self.keySchema)
        o.segments = 3
        o.recheckDelay = 0.05
        o.recheckAttempts = 2
        configure(&o)
        return o
    }

    func verifier(_ options: VerifyOptions, sink: any MismatchSink, hooks: VerifyHooks = VerifyHooks(),
                  logger: Logger = Logger(label: "test")) -> Verifier {
        Verifier(options: options, source: source, targets: [target], sink: sink, logger: logger, hooks: hooks)
    }
}

/// Collects every log line, at every level, as text.
final class CapturedLog: Sendable {
    private let lines = Mutex<[String]>([])

    var text: String { lines.withLock { $0.joined(separator: "\n") } }

    var logger: Logger {
        var logger = Logger(label: "verify-test") { _ in CaptureHandler(log: self) }
        logger.logLevel = .trace
        return logger
    }

    func append(_ line: String) { lines.withLock { $0.append(line) } }

    struct CaptureHandler: LogHandler {
        let log: CapturedLog
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let fields = (event.metadata ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
            log.append("\(event.level) \(event.message) \(fields.joined(separator: " "))")
        }
    }
}
