import DynamoModel

public struct StreamSummary: Sendable, Equatable {
    public var streamArn: String
    public var tableName: String?
    public var streamLabel: String?
}

/// A shard as DescribeStream lists it.
public struct StreamShard: Sendable, Equatable {
    public var shardId: String
    public var parentShardId: String?
    public var startingSequenceNumber: String?
    /// Present once the shard is closed.
    public var endingSequenceNumber: String?
}

public struct StreamDescription: Sendable, Equatable {
    public var streamArn: String
    public var streamStatus: String?
    public var streamViewType: StreamViewType?
    public var tableName: String?
    public var keySchema: [KeySchemaElement]
    /// Seconds since 1970 when the stream was enabled.
    public var creationRequestDateTime: Double?
    public var shards: [StreamShard]
    /// Set when more shards follow (page again from it).
    public var lastEvaluatedShardId: String?
}

/// Where GetShardIterator starts.
public enum ShardIteratorPosition: Sendable, Equatable {
    case trimHorizon
    case latest
    case atSequenceNumber(String)
    case afterSequenceNumber(String)

    var type: String {
        switch self {
        case .trimHorizon: return "TRIM_HORIZON"
        case .latest: return "LATEST"
        case .atSequenceNumber: return "AT_SEQUENCE_NUMBER"
        case .afterSequenceNumber: return "AFTER_SEQUENCE_NUMBER"
        }
    }
}

/// One stream record. Images stay raw views into the response buffer, so
/// the hot path copies them into writes without decoding.
public struct StreamRecord: Sendable {
    /// INSERT, MODIFY or REMOVE.
    public var eventName: String
    public var eventID: String?
    public var sequenceNumber: String
    /// Seconds since 1970 (DynamoDB gives whole seconds).
    public var approximateCreationDateTime: Double?
    public var keys: JSONView
    public var newImage: JSONView?
    public var oldImage: JSONView?
    public var sizeBytes: Int?
    /// `userIdentity.type` / `principalId`: set for TTL deletions ("Service",
    /// "dynamodb.amazonaws.com").
    public var userIdentityType: String?
    public var userIdentityPrincipal: String?
    /// The key of `newImage` when the page was read with the table's key
    /// schema: the image was then checked against the DynamoDB rules while
    /// the page was walked. nil: not checked yet (or it breaks the rules,
    /// which the caller finds out when it checks).
    public var newImageKey: ItemKey?

    /// A REMOVE made by DynamoDB's own TTL process.
    public var isTTLExpiry: Bool {
        eventName == "REMOVE" && userIdentityType == "Service" && userIdentityPrincipal == "dynamodb.amazonaws.com"
    }
}

public struct RecordsPage: Sendable {
    public var records: [StreamRecord]
    /// nil: the shard is closed and every record has been read.
    public var nextShardIterator: String?
}

/// Typed DynamoDB Streams operations.
public struct DynamoDBStreamsClient: Sendable {
    public let json: AWSJSONClient
    /// The `X-Amz-Target` prefix of this protocol's operations.
    public static let targetPrefix = "DynamoDBStreams_20120810"

    public init(json: AWSJSONClient) { self.json = json }

    public init(endpoint: Endpoint, credentials: any CredentialProvider, transport: any HTTPTransport,
                retry: RetryPolicy = RetryPolicy()) {
        json = AWSJSONClient(endpoint: endpoint, targetPrefix: Self.targetPrefix, credentials: credentials,
                             transport: transport, retry: retry)
    }

    public func listStreams(table: String?) throws(AWSClientError) -> [StreamSummary] {
        var out: [StreamSummary] = []
        var start: String?
        repeat {
            var m: [(key: String, value: JSONValue)] = []
            if let table { m.append(("TableName", .string(table))) }
            if let start { m.append(("ExclusiveStartStreamArn", .string(start))) }
            let body = try json.call("ListStreams", body: JSONValue.object(m).serialized())
            let v = try parse("ListStreams", body)
            for s in v["Streams"]?.arrayValue ?? [] {
                guard let arn = s["StreamArn"]?.stringValue else { throw json.invalid("ListStreams", "stream without StreamArn") }
                out.append(StreamSummary(streamArn: arn, tableName: s["TableName"]?.stringValue, streamLabel: s["StreamLabel"]?.stringValue))
            }
            start = v["LastEvaluatedStreamArn"]?.stringValue
        } while start != nil
        return out
    }

    /// One page of DescribeStream.
    public func describeStream(arn: String, exclusiveStartShardId: String? = nil, limit: Int? = nil)
        throws(AWSClientError) -> StreamDescription {
        var m: [(key: String, value: JSONValue)] = [("StreamArn", .string(arn))]
        if let exclusiveStartShardId { m.append(("ExclusiveStartShardId", .string(exclusiveStartShardId))) }
        if let limit { m.append(("Limit", .number(String(limit)))) }
        let body = try json.call("DescribeStream", body: JSONValue.object(m).serialized())
        let v = try parse("DescribeStream", body)
        guard let d = v["StreamDescription"], let streamArn = d["StreamArn"]?.stringValue else {
            throw json.invalid("DescribeStream", "StreamDescription missing")
        }
        var shards: [StreamShard] = []
        for s in d["Shards"]?.arrayValue ?? [] {
            guard let id = s["ShardId"]?.stringValue else { throw json.invalid("DescribeStream", "shard without ShardId") }
            shards.append(StreamShard(
                shardId: id, parentShardId: s["ParentShardId"]?.stringValue,
                startingSequenceNumber: s["SequenceNumberRange"]?["StartingSequenceNumber"]?.stringValue,
                endingSequenceNumber: s["SequenceNumberRange"]?["EndingSequenceNumber"]?.stringValue))
        }
        let keySchema = (try? TableDescription.keySchema(d["KeySchema"])) ?? []
        return StreamDescription(
            streamArn: streamArn, streamStatus: d["StreamStatus"]?.stringValue,
            streamViewType: d["StreamViewType"]?.stringValue.flatMap(StreamViewType.init(rawValue:)),
            tableName: d["TableName"]?.stringValue, keySchema: keySchema,
            creationRequestDateTime: d["CreationRequestDateTime"]?.doubleValue,
            shards: shards, lastEvaluatedShardId: d["LastEvaluatedShardId"]?.stringValue)
    }

    /// DescribeStream paged to the end: every shard of the stream.
    public func describeStreamFully(arn: String) throws(AWSClientError) -> StreamDescription {
        var description = try describeStream(arn: arn)
        var guardCount = 0
        while let next = description.lastEvaluatedShardId {
            guardCount += 1
            if guardCount > 10_000 { throw json.invalid("DescribeStream", "more than 10000 pages of shards") }
            let page = try describeStream(arn: arn, exclusiveStartShardId: next)
            description.shards += page.shards
            description.lastEvaluatedShardId = page.lastEvaluatedShardId
        }
        return description
    }

    public func getShardIterator(arn: String, shardId: String, position: ShardIteratorPosition)
        throws(AWSClientError) -> String {
        var m: [(key: String, value: JSONValue)] = [
            ("StreamArn", .string(arn)), ("ShardId", .string(shardId)), ("ShardIteratorType", .string(position.type)),
        ]
        switch position {
        case .atSequenceNumber(let s), .afterSequenceNumber(let s): m.append(("SequenceNumber", .string(s)))
        case .trimHorizon, .latest: break
        }
        let body = try json.call("GetShardIterator", body: JSONValue.object(m).serialized())
        guard let iterator = try parse("GetShardIterator", body)["ShardIterator"]?.stringValue else {
            throw json.invalid("GetShardIterator", "ShardIterator missing")
        }
        return iterator
    }

    /// One GetRecords call (up to `limit` records, at most 1000). Retries
    /// throttling and transient failures; `ExpiredIteratorException` and
    /// `TrimmedDataAccessException` come back as service errors for the
    /// reader to handle.
    /// - Parameter keySchema: the table's key; given, each record's new
    ///   image is checked against the DynamoDB rules and its key decoded in
    ///   the same walk (``StreamRecord/newImageKey``).
    public func getRecords(iterator: String, limit: Int = 1000, keySchema: KeySchema? = nil) throws(AWSClientError) -> RecordsPage {
        let request = JSONValue.object([("ShardIterator", .string(iterator)), ("Limit", .number(String(limit)))])
        let body = try json.call("GetRecords", body: request.serialized())
        return try Self.decodeRecords(body, client: json, keySchema: keySchema)
    }

    /// Reads a GetRecords response in one checking pass (the hot path of
    /// streaming): the page is checked while it is walked, each record and
    /// its `dynamodb` member once, each image checked and skipped once.
    /// Images stay raw views into `body`.
    static func decodeRecords(_ body: [UInt8], client: AWSJSONClient, keySchema: KeySchema? = nil) throws(AWSClientError) -> RecordsPage {
        var records: [StreamRecord] = []
        var next: String?
        var malformed = false
        do {
            try JSONWalker.walk(body) { w in
                guard w.next == UInt8(ascii: "{") else { throw client.invalid("GetRecords", "the answer is not a JSON object") }
                try w.object { w, key in
                    if key == "Records", w.next == UInt8(ascii: "[") {
                        try w.array { w in
                            guard w.next == UInt8(ascii: "{") else { malformed = true; return try w.skip() }
                            var record = RecordFields()
                            try decodeRecord(&w, into: &record, keySchema: keySchema)
                            if let r = record.record { records.append(r) } else { malformed = true }
                        }
                    } else if key == "NextShardIterator" {
                        next = try w.view().string
                    } else {
                        try w.skip()
                    }
                }
            }
        } catch let error as AWSClientError {
            throw error
        } catch {
            throw client.invalid("GetRecords", "\(error)")
        }
        if malformed {
            throw client.invalid("GetRecords", "record without eventName, dynamodb.SequenceNumber or dynamodb.Keys")
        }
        return RecordsPage(records: records, nextShardIterator: next)
    }

    private struct RecordFields {
        var eventName: String?, eventID: String?, userType: String?, userPrincipal: String?
        var seq: String?, created: Double?, keys: JSONView?, newImage: JSONView?, oldImage: JSONView?, size: Int?
        var newImageKey: ItemKey?

        var record: StreamRecord? {
            guard let eventName, let seq, let keys else { return nil }
            return StreamRecord(eventName: eventName, eventID: eventID, sequenceNumber: seq, approximateCreationDateTime: created,
                                keys: keys, newImage: newImage, oldImage: oldImage, sizeBytes: size,
                                userIdentityType: userType, userIdentityPrincipal: userPrincipal, newImageKey: newImageKey)
        }
    }

    private static func decodeRecord(_ w: inout JSONWalker, into f: inout RecordFields, keySchema: KeySchema?) throws {
        try w.object { w, key in
            if key == "eventName" { f.eventName = try w.view().string; return }
            if key == "eventID" { f.eventID = try w.view().string; return }
            if key == "userIdentity" {
                // GetRecords spells the members `Type` and `PrincipalId`
                // (the Streams API's Identity shape); Lambda events spell
                // them `type` and `principalId`. Either may reach us.
                let value = try w.view()
                f.userType = (value["Type"] ?? value["type"])?.string
                f.userPrincipal = (value["PrincipalId"] ?? value["principalId"])?.string
                return
            }
            guard key == "dynamodb", w.next == UInt8(ascii: "{") else { return try w.skip() }
            try w.object { w, field in
                if field == "SequenceNumber" { f.seq = try w.view().string }
                else if field == "Keys" { f.keys = try w.view() }
                else if field == "NewImage" {
                    if let keySchema, w.next == UInt8(ascii: "{") {
                        (f.newImage, f.newImageKey) = try w.itemOrView(keySchema: keySchema)
                    } else {
                        f.newImage = try w.view()
                    }
                }
                else if field == "OldImage" { f.oldImage = try w.view() }
                else if field == "ApproximateCreationDateTime" { f.created = try w.view().doubleValue }
                else if field == "SizeBytes" { f.size = try w.view().intValue }
                else { try w.skip() }
            }
        }
    }

    private func parse(_ operation: String, _ body: [UInt8]) throws(AWSClientError) -> JSONValue {
        do {
            return try JSONValue.parse(body)
        } catch {
            throw json.invalid(operation, "\(error)")
        }
    }
}
