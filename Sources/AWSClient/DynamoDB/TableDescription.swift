import DynamoModel

/// One attribute of a key schema: `HASH` (partition) or `RANGE` (sort).
public struct KeySchemaElement: Sendable, Equatable {
    public var attributeName: String
    public var keyType: String

    public init(attributeName: String, keyType: String) {
        self.attributeName = attributeName
        self.keyType = keyType
    }
}

/// A key attribute's type: `S`, `N` or `B`.
public struct AttributeDefinition: Sendable, Equatable {
    public var attributeName: String
    public var attributeType: String

    public init(attributeName: String, attributeType: String) {
        self.attributeName = attributeName
        self.attributeType = attributeType
    }
}

public struct Projection: Sendable, Equatable {
    /// `ALL`, `KEYS_ONLY` or `INCLUDE`.
    public var projectionType: String
    public var nonKeyAttributes: [String]

    public init(projectionType: String, nonKeyAttributes: [String] = []) {
        self.projectionType = projectionType
        self.nonKeyAttributes = nonKeyAttributes
    }
}

public struct ProvisionedThroughput: Sendable, Equatable {
    public var readCapacityUnits: Int
    public var writeCapacityUnits: Int

    public init(readCapacityUnits: Int, writeCapacityUnits: Int) {
        self.readCapacityUnits = readCapacityUnits
        self.writeCapacityUnits = writeCapacityUnits
    }
}

/// A global or local secondary index.
public struct SecondaryIndex: Sendable, Equatable {
    public var indexName: String
    public var keySchema: [KeySchemaElement]
    public var projection: Projection
    /// Global indexes of provisioned tables only.
    public var provisionedThroughput: ProvisionedThroughput?

    public init(indexName: String, keySchema: [KeySchemaElement], projection: Projection,
                provisionedThroughput: ProvisionedThroughput? = nil) {
        self.indexName = indexName
        self.keySchema = keySchema
        self.projection = projection
        self.provisionedThroughput = provisionedThroughput
    }
}

/// `StreamViewType`: what each stream record carries.
public enum StreamViewType: String, Sendable, Equatable, CaseIterable {
    case newImage = "NEW_IMAGE"
    case newAndOldImages = "NEW_AND_OLD_IMAGES"
    case keysOnly = "KEYS_ONLY"
    case oldImage = "OLD_IMAGE"

    /// Whether records carry the item after the change.
    public var carriesNewImage: Bool { self == .newImage || self == .newAndOldImages }
}

/// What DescribeTable says about a table, and what CreateTable takes.
public struct TableDescription: Sendable, Equatable {
    public var tableName: String
    public var tableArn: String?
    public var tableStatus: String?
    public var keySchema: [KeySchemaElement]
    public var attributeDefinitions: [AttributeDefinition]
    /// `PAY_PER_REQUEST` or `PROVISIONED`.
    public var billingMode: String
    public var provisionedThroughput: ProvisionedThroughput?
    public var globalSecondaryIndexes: [SecondaryIndex]
    public var localSecondaryIndexes: [SecondaryIndex]
    public var streamEnabled: Bool
    public var streamViewType: StreamViewType?
    public var latestStreamArn: String?
    /// Tags sent with CreateTable (not read back from DescribeTable).
    public var tags: [String: String] = [:]
    public var itemCount: Int?
    public var creationDateTime: Double?

    public init(tableName: String, keySchema: [KeySchemaElement], attributeDefinitions: [AttributeDefinition],
                billingMode: String = "PAY_PER_REQUEST", provisionedThroughput: ProvisionedThroughput? = nil,
                globalSecondaryIndexes: [SecondaryIndex] = [], localSecondaryIndexes: [SecondaryIndex] = [],
                streamEnabled: Bool = false, streamViewType: StreamViewType? = nil) {
        self.tableName = tableName
        self.keySchema = keySchema
        self.attributeDefinitions = attributeDefinitions
        self.billingMode = billingMode
        self.provisionedThroughput = provisionedThroughput
        self.globalSecondaryIndexes = globalSecondaryIndexes
        self.localSecondaryIndexes = localSecondaryIndexes
        self.streamEnabled = streamEnabled
        self.streamViewType = streamViewType
    }

    /// The primary key as the data model uses it.
    public var primaryKey: KeySchema? {
        guard let hash = keySchema.first(where: { $0.keyType == "HASH" }) else { return nil }
        return KeySchema(partitionKey: hash.attributeName,
                         sortKey: keySchema.first(where: { $0.keyType == "RANGE" })?.attributeName)
    }
}

// MARK: - JSON

extension TableDescription {
    /// Reads a `Table` / `TableDescription` object.
    init(json t: JSONValue) throws {
        guard let name = t["TableName"]?.stringValue else { throw DecodeFailure("TableName missing") }
        tableName = name
        tableArn = t["TableArn"]?.stringValue
        tableStatus = t["TableStatus"]?.stringValue
        keySchema = try Self.keySchema(t["KeySchema"])
        attributeDefinitions = (t["AttributeDefinitions"]?.arrayValue ?? []).compactMap { a in
            guard let n = a["AttributeName"]?.stringValue, let ty = a["AttributeType"]?.stringValue else { return nil }
            return AttributeDefinition(attributeName: n, attributeType: ty)
        }
        let throughput = Self.throughput(t["ProvisionedThroughput"])
        let declaredMode = t["BillingModeSummary"]?["BillingMode"]?.stringValue
        // Older tables have no BillingModeSummary; positive capacity means provisioned.
        billingMode = declaredMode ?? ((throughput?.readCapacityUnits ?? 0) > 0 ? "PROVISIONED" : "PAY_PER_REQUEST")
        provisionedThroughput = billingMode == "PROVISIONED" ? throughput : nil
        globalSecondaryIndexes = try (t["GlobalSecondaryIndexes"]?.arrayValue ?? []).map { try Self.index($0) }
        localSecondaryIndexes = try (t["LocalSecondaryIndexes"]?.arrayValue ?? []).map { try Self.index($0) }
        streamEnabled = t["StreamSpecification"]?["StreamEnabled"]?.boolValue ?? false
        streamViewType = t["StreamSpecification"]?["StreamViewType"]?.stringValue.flatMap(StreamViewType.init(rawValue:))
        latestStreamArn = t["LatestStreamArn"]?.stringValue
        itemCount = t["ItemCount"]?.intValue
        creationDateTime = t["CreationDateTime"]?.doubleValue
    }

    static func keySchema(_ json: JSONValue?) throws -> [KeySchemaElement] {
        guard let elements = json?.arrayValue, !elements.isEmpty else { throw DecodeFailure("KeySchema missing") }
        var out: [KeySchemaElement] = []
        for e in elements {
            guard let n = e["AttributeName"]?.stringValue, let k = e["KeyType"]?.stringValue else {
                throw DecodeFailure("KeySchema element without AttributeName/KeyType")
            }
            out.append(KeySchemaElement(attributeName: n, keyType: k))
        }
        return out
    }

    static func throughput(_ json: JSONValue?) -> ProvisionedThroughput? {
        guard let r = json?["ReadCapacityUnits"]?.intValue, let w = json?["WriteCapacityUnits"]?.intValue else { return nil }
        return ProvisionedThroughput(readCapacityUnits: r, writeCapacityUnits: w)
    }

    static func index(_ json: JSONValue) throws -> SecondaryIndex {
        guard let name = json["IndexName"]?.stringValue else { throw DecodeFailure("index without IndexName") }
        let projection = Projection(
            projectionType: json["Projection"]?["ProjectionType"]?.stringValue ?? "ALL",
            nonKeyAttributes: (json["Projection"]?["NonKeyAttributes"]?.arrayValue ?? []).compactMap(\.stringValue))
        let throughput = throughput(json["ProvisionedThroughput"])
        return SecondaryIndex(indexName: name, keySchema: try keySchema(json["KeySchema"]), projection: projection,
                              provisionedThroughput: (throughput?.readCapacityUnits ?? 0) > 0 ? throughput : nil)
    }

    /// The CreateTable request for this description (under its `tableName`).
    func createTableRequest() -> JSONValue {
        var members: [(key: String, value: JSONValue)] = [
            ("TableName", .string(tableName)),
            ("KeySchema", Self.json(keySchema)),
            ("AttributeDefinitions", .array(attributeDefinitions.map {
                .object([("AttributeName", .string($0.attributeName)), ("AttributeType", .string($0.attributeType))])
            })),
            ("BillingMode", .string(billingMode)),
        ]
        if billingMode == "PROVISIONED", let p = provisionedThroughput { members.append(("ProvisionedThroughput", Self.json(p))) }
        let provisioned = billingMode == "PROVISIONED"
        if !globalSecondaryIndexes.isEmpty {
            members.append(("GlobalSecondaryIndexes", .array(globalSecondaryIndexes.map { Self.json($0, provisioned: provisioned) })))
        }
        if !localSecondaryIndexes.isEmpty {
            members.append(("LocalSecondaryIndexes", .array(localSecondaryIndexes.map { Self.json($0, provisioned: false) })))
        }
        if streamEnabled, let view = streamViewType {
            members.append(("StreamSpecification", .object([("StreamEnabled", .bool(true)), ("StreamViewType", .string(view.rawValue))])))
        }
        if !tags.isEmpty {
            members.append(("Tags", .array(tags.sorted { $0.key < $1.key }.map {
                .object([("Key", .string($0.key)), ("Value", .string($0.value))])
            })))
        }
        return .object(members)
    }

    static func json(_ schema: [KeySchemaElement]) -> JSONValue {
        .array(schema.map { .object([("AttributeName", .string($0.attributeName)), ("KeyType", .string($0.keyType))]) })
    }

    static func json(_ p: ProvisionedThroughput) -> JSONValue {
        .object([("ReadCapacityUnits", .number(String(p.readCapacityUnits))),
                 ("WriteCapacityUnits", .number(String(p.writeCapacityUnits)))])
    }

    static func json(_ index: SecondaryIndex, provisioned: Bool) -> JSONValue {
        var projection: [(key: String, value: JSONValue)] = [("ProjectionType", .string(index.projection.projectionType))]
        if !index.projection.nonKeyAttributes.isEmpty {
            projection.append(("NonKeyAttributes", .array(index.projection.nonKeyAttributes.map { .string($0) })))
        }
        var members: [(key: String, value: JSONValue)] = [
            ("IndexName", .string(index.indexName)),
            ("KeySchema", json(index.keySchema)),
            ("Projection", .object(projection)),
        ]
        if provisioned, let p = index.provisionedThroughput { members.append(("ProvisionedThroughput", json(p))) }
        return .object(members)
    }
}

/// A response field that is missing or has the wrong shape.
struct DecodeFailure: Error {
    let detail: String
    init(_ detail: String) { self.detail = detail }
}
