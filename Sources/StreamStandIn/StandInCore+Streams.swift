import DynamoModel

/// ListStreams, DescribeStream, GetShardIterator, GetRecords.
extension StandInCore {
    func listStreams(_ request: JSONView) throws -> [UInt8] {
        let tableName = request["TableName"]?.string
        let streams = state.withLock { state -> [(arn: String, label: String, table: String)] in
            state.tables.values.compactMap { table in
                guard let stream = table.stream, tableName == nil || tableName == table.spec.name else { return nil }
                return (stream.arn, stream.label, table.spec.name)
            }.sorted { $0.arn < $1.arn }
        }
        var w = DynamoJSONWriter()
        w.beginObject()
        w.writeKey("Streams"); w.beginArray()
        for stream in streams {
            w.beginObject()
            w.writeKey("StreamArn"); w.writeString(stream.arn)
            w.writeKey("StreamLabel"); w.writeString(stream.label)
            w.writeKey("TableName"); w.writeString(stream.table)
            w.endObject()
        }
        w.endArray()
        w.endObject()
        return w.bytes
    }

    func describeStream(_ request: JSONView) throws -> [UInt8] {
        let arn = try request.requiredString("StreamArn")
        let startAfter = request["ExclusiveStartShardId"]?.string
        let limit = try request.optionalInt("Limit")
        if let limit, !(1...100).contains(limit) { throw ServiceError.validation("Limit must be between 1 and 100") }
        let pageSize = min(limit ?? Int.max, max(1, configuration.describeStreamPageSize))

        return try state.withLock { state throws(ServiceError) -> [UInt8] in
            guard let tableName = state.streamTables[arn], let table = state.tables[tableName],
                  let stream = table.stream else { throw Self.streamNotFound(arn) }
            let listed = stream.listedShards
            // Ids sort in creation order, so a vanished start id still finds its place.
            let remaining = startAfter.map { start in listed.filter { $0.id > start } } ?? listed
            let page = remaining.prefix(pageSize)

            var w = DynamoJSONWriter(capacity: 512 + page.count * 200)
            w.beginObject()
            w.writeKey("StreamDescription"); w.beginObject()
            w.writeKey("CreationRequestDateTime"); w.writeInt(Int(stream.createdAt))
            w.writeKey("KeySchema"); w.beginArray()
            for name in table.schema.attributeNames {
                w.beginObject()
                w.writeKey("AttributeName"); w.writeString(name)
                w.writeKey("KeyType"); w.writeString(name == table.schema.partitionKey ? "HASH" : "RANGE")
                w.endObject()
            }
            w.endArray()
            if remaining.count > page.count, let last = page.last {
                w.writeKey("LastEvaluatedShardId"); w.writeString(last.id)
            }
            w.writeKey("Shards"); w.beginArray()
            for shard in page {
                w.beginObject()
                if let parent = shard.parentID { w.writeKey("ParentShardId"); w.writeString(parent) }
                w.writeKey("SequenceNumberRange"); w.beginObject()
                if let ending = shard.endingSequence {
                    w.writeKey("EndingSequenceNumber"); w.writeString(SequenceNumberText.format(ending))
                }
                w.writeKey("StartingSequenceNumber"); w.writeString(SequenceNumberText.format(shard.startingSequence))
                w.endObject()
                w.writeKey("ShardId"); w.writeString(shard.id)
                w.endObject()
            }
            w.endArray()
            w.writeKey("StreamArn"); w.writeString(stream.arn)
            w.writeKey("StreamLabel"); w.writeString(stream.label)
            w.writeKey("StreamStatus"); w.writeString("ENABLED")
            w.writeKey("StreamViewType"); w.writeString(stream.view.rawValue)
            w.writeKey("TableName"); w.writeString(table.spec.name)
            w.endObject()
            w.endObject()
            return w.bytes
        }
    }

    func getShardIterator(_ request: JSONView) throws -> [UInt8] {
        let arn = try request.requiredString("StreamArn")
        let shardID = try request.requiredString("ShardId")
        let type = try request.requiredString("ShardIteratorType")
        var sequence: (value: UInt128, after: Bool)?
        switch type {
        case "TRIM_HORIZON", "LATEST":
            break
        case "AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER":
            guard let text = request["SequenceNumber"]?.string else {
                throw ServiceError.validation("SequenceNumber is required for \(type)")
            }
            guard let value = SequenceNumberText.parse(text) else {
                throw ServiceError.validation("Invalid SequenceNumber: \(text.prefix(50))")
            }
            sequence = (value, type == "AFTER_SEQUENCE_NUMBER")
        default:
            throw ServiceError.validation("Invalid ShardIteratorType: \(type.prefix(30))")
        }
        let now = self.now()

        let token = try state.withLock { state throws(ServiceError) -> String in
            guard let tableName = state.streamTables[arn], state.tables[tableName]?.stream != nil else {
                throw Self.streamNotFound(arn)
            }
            guard let (owner, shard) = state.shards[shardID], owner == tableName, !shard.vanished else {
                throw ServiceError.notFound("Requested resource not found: Shard does not exist")
            }
            let position: Int
            switch (type, sequence) {
            case ("LATEST", _):
                position = shard.endIndex
            case (_, let sequence?):
                if sequence.value < shard.startingSequence
                    || shard.endingSequence.map({ sequence.value > $0 }) ?? false {
                    throw ServiceError.validation("Invalid SequenceNumber for ShardId \(shardID): outside the shard's range")
                }
                if shard.isTrimmed(sequence.value, after: sequence.after) {
                    throw Self.trimmed()
                }
                position = shard.position(of: sequence.value, after: sequence.after)
            default:
                position = shard.trimmedCount
            }
            state.iteratorsIssued += 1
            return ShardIteratorToken(serial: state.iteratorsIssued, shardID: shardID, position: position,
                                      issuedMillis: Int64(now * 1000)).encode(streamArn: arn)
        }
        var w = DynamoJSONWriter(capacity: token.utf8.count + 24)
        w.beginObject()
        w.writeKey("ShardIterator"); w.writeString(token)
        w.endObject()
        return w.bytes
    }

    func getRecords(_ request: JSONView) throws -> [UInt8] {
        let text = try request.requiredString("ShardIterator")
        let limit = try request.optionalInt("Limit") ?? 1000
        guard (1...1000).contains(limit) else {
            throw ServiceError.validation("1 validation error detected: Value '\(limit)' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 1000")
        }
        guard let token = ShardIteratorToken(decoding: text), let bar = text.firstIndex(of: "|") else {
            throw ServiceError.validation("Invalid ShardIterator")
        }
        let arn = String(text[..<bar])
        let now = self.now()
        let ageLimit = configuration.iteratorAgeLimit
        let byteLimit = configuration.getRecordsByteLimit
        // Alternator publishes a record only once its time window has passed.
        let publishedBy = configuration.alternatorStreams.map { now - $0.publishDelay }

        let (records, next) = try state.withLock { state throws(ServiceError) -> ([StoredRecord], String?) in
            if state.expiredIteratorSerials.contains(token.serial) || token.serial < state.iteratorsExpireBelowSerial
                || now - token.issued > ageLimit {
                throw ServiceError("ExpiredIteratorException",
                                   "Iterator expired. The iterator was created at time \(token.issuedMillis) while right now it is \(Int64(now * 1000)).")
            }
            guard let (_, shard) = state.shards[token.shardID] else {
                throw ServiceError.notFound("Requested resource not found: Shard does not exist")
            }
            guard token.position >= shard.trimmedCount else { throw Self.trimmed() }
            let records = shard.records(from: token.position, limit: limit, byteLimit: byteLimit,
                                         publishedBy: publishedBy)
            var position = token.position + records.count
            if !records.isEmpty, state.anomalies.replayPageEvery > 0 {
                state.recordsAnswered += 1
                if state.recordsAnswered % state.anomalies.replayPageEvery == 0 { position = token.position }
            }
            if !shard.isOpen, position >= shard.endIndex { return (records, nil) }
            state.iteratorsIssued += 1
            let next = ShardIteratorToken(serial: state.iteratorsIssued, shardID: token.shardID, position: position,
                                          issuedMillis: Int64(now * 1000))
            return (records, next.encode(streamArn: arn))
        }

        var size = 64 + (next?.utf8.count ?? 0)
        for record in records { size += record.bytes.count + 1 }
        var body: [UInt8] = []
        body.reserveCapacity(size)
        body.append(contentsOf: #"{"Records":["#.utf8)
        for (index, record) in records.enumerated() {
            if index > 0 { body.append(UInt8(ascii: ",")) }
            body.append(contentsOf: record.bytes)
        }
        body.append(UInt8(ascii: "]"))
        if let next {
            var w = DynamoJSONWriter(capacity: next.utf8.count + 32)
            w.writeRaw(#","NextShardIterator":"#)
            w.writeString(next)
            body.append(contentsOf: w.bytes)
        }
        body.append(UInt8(ascii: "}"))
        return body
    }

    static func streamNotFound(_ arn: String) -> ServiceError {
        .notFound("Requested resource not found: Stream: \(arn) not found")
    }

    static func trimmed() -> ServiceError {
        ServiceError("TrimmedDataAccessException",
                     "The operation attempted to read past the oldest stream record in a shard.")
    }
}
