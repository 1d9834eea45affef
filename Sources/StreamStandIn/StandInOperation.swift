/// The API operations the stand-in answers, named as in `X-Amz-Target`
/// (`DynamoDB_20120810.PutItem`, `DynamoDBStreams_20120810.GetRecords`).
public enum StandInOperation: String, Sendable, Hashable, CaseIterable {
    // DynamoDB
    case createTable = "CreateTable"
    case deleteTable = "DeleteTable"
    case describeTable = "DescribeTable"
    case updateTable = "UpdateTable"
    case listTables = "ListTables"
    case putItem = "PutItem"
    case deleteItem = "DeleteItem"
    case getItem = "GetItem"
    case updateItem = "UpdateItem"
    case batchWriteItem = "BatchWriteItem"
    case batchGetItem = "BatchGetItem"
    case scan = "Scan"
    // DynamoDB Streams
    case listStreams = "ListStreams"
    case describeStream = "DescribeStream"
    case getShardIterator = "GetShardIterator"
    case getRecords = "GetRecords"

    /// The `X-Amz-Target` prefix this operation is sent under.
    public var targetPrefix: String {
        isStreamsOperation ? Self.streamsPrefix : Self.dynamoDBPrefix
    }

    /// Whether this is a DynamoDB Streams operation.
    public var isStreamsOperation: Bool {
        switch self {
        case .listStreams, .describeStream, .getShardIterator, .getRecords: true
        default: false
        }
    }

    static let dynamoDBPrefix = "DynamoDB_20120810"
    static let streamsPrefix = "DynamoDBStreams_20120810"

    /// The operation an `X-Amz-Target` value names, if the stand-in knows it
    /// under that prefix.
    init?(target: String) {
        guard let dot = target.lastIndex(of: ".") else { return nil }
        let prefix = target[..<dot]
        guard let operation = StandInOperation(rawValue: String(target[target.index(after: dot)...])) else { return nil }
        guard prefix == operation.targetPrefix else { return nil }
        self = operation
    }
}
