import AWSClient
import DynamoModel

/// Reads items by key from one table with BatchGetItem, the raw way: the
/// request is written straight from the key attributes and the response is
/// read from a ``JSONView``, with no intermediate JSON tree.
///
/// `UnprocessedKeys` are asked again after a full-jitter backoff: 50 ms
/// base, doubling per round (ceilings 50, 100, 200 ms, …, capped at 2 s),
/// for at most `maxRounds` rounds; keys still unprocessed then are a
/// failure, since a verification must not skip items in silence.
struct BatchReader: Sendable {
    let client: DynamoDBClient
    let table: String
    let side: VerifyError.Side
    let keySchema: KeySchema
    let throttle: (any ReadThrottle)?
    let environment: RetryEnvironment
    var maxRounds = 10
    var backoff = Backoff(transientBase: 0.05, throttlingBase: 0.05, cap: 2)

    /// The items found for `keys` (at most 100, all different), as raw
    /// items by key.
    func fetchRaw(_ keys: [ItemKey], consistent: Bool, isStopping: () -> Bool) throws(VerifyError) -> [KeyBytes: RawItem] {
        try fetchRaw(count: keys.count, consistent: consistent, isStopping: isStopping) { w in
            for key in keys { w.writeItem(key.attributes) }
        }
    }

    /// The items with the keys of `items` (at most 100, all different): the
    /// keys go into the request as the raw bytes they came in.
    func fetchRaw(keysOf items: ArraySlice<RawItem>, consistent: Bool,
                  isStopping: () -> Bool) throws(VerifyError) -> [KeyBytes: RawItem] {
        try fetchRaw(count: items.count, consistent: consistent, isStopping: isStopping) { w in
            for item in items { item.writeKey(into: &w) }
        }
    }

    /// Asks for the keys `writeKeys` writes, then again for those left
    /// unprocessed.
    private func fetchRaw(count: Int, consistent: Bool, isStopping: () -> Bool,
                          writeKeys: (inout DynamoJSONWriter) -> Void) throws(VerifyError) -> [KeyBytes: RawItem] {
        var found: [KeyBytes: RawItem] = Dictionary(minimumCapacity: count)
        var pending: [Item] = []
        var round = 0
        repeat {
            throttle?.take(Double(round == 0 ? count : pending.count), isStopping: isStopping)
            var w = DynamoJSONWriter(capacity: 96 + count * 64)
            w.beginObject()
            w.writeKey("RequestItems"); w.beginObject()
            w.writeKey(table); w.beginObject()
            w.writeKey("Keys"); w.beginArray()
            if round == 0 {
                writeKeys(&w)
            } else {
                for key in pending { w.writeItem(key) }
            }
            w.endArray()
            if consistent { w.writeKey("ConsistentRead"); w.writeBool(true) }
            w.endObject()
            w.endObject()
            w.endObject()
            let response: [UInt8]
            do {
                response = try client.json.call("BatchGetItem", body: w.bytes)
            } catch {
                throw .call(side: side, operation: "BatchGetItem", error: error)
            }
            do {
                pending = try read(response, into: &found)
            } catch {
                throw .invalidData(side: side, detail: "BatchGetItem: \(error)")
            }
            guard !pending.isEmpty else { break }
            round += 1
            guard round < maxRounds else { throw .unprocessedKeys(side: side, keys: pending.count, rounds: round) }
            _ = environment.sleep(backoff.delay(retry: round - 1, for: .throttling, unit: environment.random()))
        } while true
        return found
    }

    /// The items found for `keys`, decoded, by key.
    func fetch(_ keys: [ItemKey], consistent: Bool, isStopping: () -> Bool) throws(VerifyError) -> [ItemKey: Item] {
        let raw = try fetchRaw(keys, consistent: consistent, isStopping: isStopping)
        var found: [ItemKey: Item] = Dictionary(minimumCapacity: raw.count)
        do {
            for item in raw.values { found[item.key] = try item.decoded() }
        } catch {
            throw .invalidData(side: side, detail: "BatchGetItem: \(error)")
        }
        return found
    }

    /// Adds the items of a response to `found` (one walk over the
    /// response); returns the unprocessed keys.
    private func read(_ response: [UInt8], into found: inout [KeyBytes: RawItem]) throws -> [Item] {
        var unprocessed: [Item] = []
        try JSONView(response).forEachMember(expanding: ["Responses", table], member: { name, value in
            if name == "UnprocessedKeys" {
                try value[table]?["Keys"]?.forEachElement { unprocessed.append(try $0.readItem()) }
            }
        }, element: { element, members in
            let item = try RawItem(element, members: members, keySchema: keySchema)
            found[KeyBytes(item.key)] = item
        })
        return unprocessed
    }
}

/// One page of a (parallel) Scan: its items, raw.
struct ScannedPage {
    var items: [RawItem]
    var lastEvaluatedKey: Item?
}

extension DynamoDBClient {
    /// One page of a Scan, written and read without intermediate trees
    /// (a single walk over the response); errors as ``VerifyError``.
    func verifyScan(table: String, side: VerifyError.Side, keySchema: KeySchema, segment: Int, totalSegments: Int,
                    start: Item?, limit: Int) throws(VerifyError) -> ScannedPage {
        var w = DynamoJSONWriter(capacity: 256)
        w.beginObject()
        w.writeKey("TableName"); w.writeString(table)
        w.writeKey("Segment"); w.writeInt(segment)
        w.writeKey("TotalSegments"); w.writeInt(totalSegments)
        if let start { w.writeKey("ExclusiveStartKey"); w.writeItem(start) }
        w.writeKey("Limit"); w.writeInt(limit)
        w.endObject()
        let response: [UInt8]
        do {
            response = try json.call("Scan", body: w.bytes)
        } catch {
            throw .call(side: side, operation: "Scan", error: error)
        }
        var page = ScannedPage(items: [], lastEvaluatedKey: nil)
        do {
            var items: [RawItem] = []
            var last: Item?
            try JSONView(response).forEachMember(expanding: ["Items"], member: { name, value in
                if name == "LastEvaluatedKey" { last = try value.readItem() }
            }, element: { element, members in
                items.append(try RawItem(element, members: members, keySchema: keySchema))
            })
            page = ScannedPage(items: items, lastEvaluatedKey: last)
        } catch {
            throw .invalidData(side: side, detail: "Scan: \(error)")
        }
        return page
    }
}
