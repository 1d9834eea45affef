import AWSClient
import DynamoModel
import Foundation
import Logging

/// `ferry create-table`: the target table with the source table's key
/// schema, attribute definitions, indexes and billing mode.
public struct CreateTableRunner: Sendable {
    public let config: FerryConfig
    public let services: Services
    public let logger: Logger
    /// How long to wait for a new table to become ACTIVE.
    public var activeTimeout: Double = 300

    public init(config: FerryConfig, services: Services, logger: Logger) {
        self.config = config
        self.services = services
        self.logger = logger
    }

    public enum Result: Sendable, Equatable {
        case created(TableDescription)
        case alreadyThere(TableDescription)
    }

    public func run() throws -> Result {
        guard let sourceName = config.source.table, let targetName = config.target.table else {
            throw SetupError("source.table and target.table are required")
        }
        let source = try services.source.describeTable(sourceName)
        if let existing = try describeTarget(targetName) {
            try Self.checkSameKeys(source: source, target: existing)
            logger.info("target table exists with the same keys", metadata: ["table": "\(targetName)"])
            return .alreadyThere(existing)
        }
        var wanted = source
        wanted.tableName = targetName
        // The target's own stream is not Ferry's business, until the way
        // back: then `ferry cutover --enable-stream` turns it on.
        wanted.streamEnabled = false
        wanted.streamViewType = nil
        if config.target.type == .alternator && config.target.streamsPossible {
            wanted.tags = Self.vnodeTags
        }
        var created = try services.target.createTable(wanted)
        let deadline = Date().addingTimeInterval(activeTimeout)
        while created.tableStatus != nil && created.tableStatus != "ACTIVE" && Date() < deadline {
            Thread.sleep(forTimeInterval: 1)
            created = try services.target.describeTable(targetName)
        }
        logger.info("created target table", metadata: [
            "table": "\(targetName)", "key": "\(Services.describe(created.primaryKey))",
            "global_indexes": "\(created.globalSecondaryIndexes.count)", "local_indexes": "\(created.localSecondaryIndexes.count)",
            "billing_mode": "\(created.billingMode)",
        ])
        return .created(created)
    }

    /// Tags that make Alternator create the table on vnodes, not tablets:
    /// ScyllaDB versions that create tablet tables by default have not
    /// supported Streams on them, and the way back after the cut-over reads
    /// the table's stream. The tag was renamed; an unknown name is ignored
    /// silently, so both are sent.
    public static let vnodeTags = ["system:initial_tablets": "none", "experimental:initial_tablets": "none"]

    private func describeTarget(_ name: String) throws -> TableDescription? {
        switch Swift.Result(catching: { () throws(AWSClientError) in try services.target.describeTable(name) }) {
        case .success(let found):
            return found
        case .failure(let error):
            if error.serviceError?.code == "ResourceNotFoundException" { return nil }
            throw error
        }
    }

    /// Same key attribute names, roles and types, or an error showing both.
    static func checkSameKeys(source: TableDescription, target: TableDescription) throws {
        func describe(_ t: TableDescription) -> String {
            t.keySchema.map { element in
                let type = t.attributeDefinitions.first { $0.attributeName == element.attributeName }?.attributeType ?? "?"
                return "\(element.attributeName) \(element.keyType) \(type)"
            }.joined(separator: ", ")
        }
        let a = describe(source), b = describe(target)
        guard a == b else {
            throw SetupError("target table \(target.tableName) exists with other keys: target has (\(b)), source \(source.tableName) has (\(a)); "
                + "drop it or choose another target.table")
        }
    }
}
