import DynamoModel

/// Scan, with parallel segments. Items are ordered by the 64-bit hash of
/// their key (then the key bytes), and segment `s` of `n` holds the hashes
/// `h` with `⌊h·n / 2⁶⁴⌋ = s`, so every segment is one contiguous run and
/// `ExclusiveStartKey` finds its place by binary search, even when that
/// item has been deleted meanwhile.
extension StandInCore {
    func scan(_ request: JSONView) throws -> [UInt8] {
        let name = try request.requiredString("TableName")
        try Self.refuseUnsupported(request, [
            "FilterExpression", "ScanFilter", "ProjectionExpression", "AttributesToGet", "IndexName", "Select",
        ])
        let segment = try request.optionalInt("Segment")
        let totalSegments = try request.optionalInt("TotalSegments")
        guard (segment == nil) == (totalSegments == nil) else {
            throw ServiceError.validation("The TotalSegments parameter is required but was not present in the request when Segment parameter is present")
        }
        let segments = totalSegments ?? 1
        let index = segment ?? 0
        guard (1...1_000_000).contains(segments), (0..<segments).contains(index) else {
            throw ServiceError.validation("The Segment parameter is zero-based and must be less than parameter TotalSegments")
        }
        let limit = try request.optionalInt("Limit") ?? Int.max
        guard limit >= 1 else { throw ServiceError.validation("Limit must be at least 1") }
        let spec = try spec(of: name)
        let startKey = try request["ExclusiveStartKey"].map { view throws(ServiceError) in try parseKey(view, spec: spec) }
        let reportsCapacity = request["ReturnConsumedCapacity"]?.string.map { $0 != "NONE" } ?? false
        let byteLimit = configuration.getRecordsByteLimit

        return try state.withLock { state throws(ServiceError) -> [UInt8] in
            guard let table = state.tables[name] else { throw Self.tableNotFound(name) }
            let order = table.scanOrder
            let segmentEnd = Self.firstIndex(in: order) { Self.segment(of: $0.hash, in: segments) > index }
            var position: Int
            if let startKey {
                let start = TableState.ScanEntry(hash: startKey.stableHash, keyBytes: startKey.bytes)
                position = Self.firstIndex(in: order) { start < $0 }
            } else {
                position = Self.firstIndex(in: order) { Self.segment(of: $0.hash, in: segments) >= index }
            }
            position = max(position, Self.firstIndex(in: order) { Self.segment(of: $0.hash, in: segments) >= index })

            var w = DynamoJSONWriter(capacity: 4096)
            w.beginObject()
            w.writeKey("Items"); w.beginArray()
            var count = 0
            var bytes = 0
            var last: StoredItem?
            while position < segmentEnd, count < limit, bytes < byteLimit {
                guard let item = table.items[order[position].keyBytes] else { break }
                w.writeRawValue(item.raw)
                bytes += item.raw.count
                count += 1
                last = item
                position += 1
            }
            w.endArray()
            w.writeKey("Count"); w.writeInt(count)
            w.writeKey("ScannedCount"); w.writeInt(count)
            if position < segmentEnd, let last {
                w.writeKey("LastEvaluatedKey"); w.writeRawValue(StandInState.sortedJSON(last.key.attributes))
            }
            if reportsCapacity {
                w.writeKey("ConsumedCapacity"); w.beginObject()
                w.writeKey("CapacityUnits"); w.writeNumberText(String(Double(max(1, (bytes + 4095) / 4096)) / 2))
                w.writeKey("TableName"); w.writeString(name)
                w.endObject()
            }
            w.endObject()
            return w.bytes
        }
    }

    static func segment(of hash: UInt64, in count: Int) -> Int {
        Int(hash.multipliedFullWidth(by: UInt64(count)).high)
    }

    /// The first index whose entry satisfies `isPast` (entries are ordered
    /// so that it is false, then true).
    static func firstIndex(in order: [TableState.ScanEntry], where isPast: (TableState.ScanEntry) -> Bool) -> Int {
        var low = 0
        var high = order.count
        while low < high {
            let mid = (low + high) / 2
            if isPast(order[mid]) { high = mid } else { low = mid + 1 }
        }
        return low
    }
}
