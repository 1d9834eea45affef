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

    /// The items found for `keys` (at most 100, all different), by key.
    func fetch(_ keys: [ItemKey], consistent: Bool, isStopping: () -> Bool) throws(VerifyError) -> [ItemKey: Item] {
        var found: [ItemKey: Item] = Dictionary(minimumCapacity: keys.count)
        var pending = keys.map(\.attributes)
        var round = 0
        while !pending.isEmpty {
            throttle?.take(Double(pending.count), isStopping: isStopping)
            let body = Self.requestBody(table: table, keys: pending, consistent: consistent)
            let response: [UInt8]
            do {
                response = try client.json.call("BatchGetItem", body: body)
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
        }
        return found
    }

    /// `{"RequestItems":{"<table>":{"Keys":[…],"ConsistentRead":true}}}`
    static func requestBody(table: String, keys: [Item], consistent: Bool) -> [UInt8] {
        var w = DynamoJSONWriter(capacity: 96 + keys.count * 64)
        w.beginObject()
        w.writeKey("RequestItems"); w.beginObject()
        w.writeKey(table); w.beginObject()
        w.writeKey("Keys"); w.beginArray()
        for key in keys { w.writeItem(key) }
        w.endArray()
        if consistent { w.writeKey("ConsistentRead"); w.writeBool(true) }
        w.endObject()
        w.endObject()
        w.endObject()
        return w.bytes
    }

    /// Adds the items of a response to `found`; returns the unprocessed keys.
    private func read(_ response: [UInt8], into found: inout [ItemKey: Item]) throws -> [Item] {
        let view = try JSONView(response)
        try view["Responses"]?[table]?.forEachElement { element in
            let item = try element.readItem()
            found[try keySchema.key(of: item)] = item
        }
        var unprocessed: [Item] = []
        try view["UnprocessedKeys"]?[table]?["Keys"]?.forEachElement { unprocessed.append(try $0.readItem()) }
        return unprocessed
    }
}

/// One page of a (parallel) Scan, decoded: each item with its key.
struct ScannedPage {
    var items: [(key: ItemKey, item: Item)]
    var lastEvaluatedKey: Item?
}

extension DynamoDBClient {
    /// A Scan page with every item decoded and keyed, errors as ``VerifyError``.
    func verifyScan(table: String, side: VerifyError.Side, keySchema: KeySchema, segment: Int, totalSegments: Int,
                    start: Item?, limit: Int) throws(VerifyError) -> ScannedPage {
        let page: ScanPage
        do {
            page = try scan(table: table, segment: segment, totalSegments: totalSegments, exclusiveStartKey: start, limit: limit)
        } catch {
            throw .call(side: side, operation: "Scan", error: error)
        }
        var items: [(key: ItemKey, item: Item)] = []
        items.reserveCapacity(page.items.count)
        do {
            for view in page.items {
                let item = try view.readItem()
                items.append((try keySchema.key(of: item), item))
            }
        } catch {
            throw .invalidData(side: side, detail: "Scan: \(error)")
        }
        return ScannedPage(items: items, lastEvaluatedKey: page.lastEvaluatedKey)
    }
}
