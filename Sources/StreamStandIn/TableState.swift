import DynamoModel

/// One stored item: its key and its DynamoDB JSON exactly as written.
struct StoredItem {
    let key: ItemKey
    let raw: [UInt8]
}

/// A checked write on its way into a table: a put of `raw`, or a delete.
struct ParsedWrite {
    let key: ItemKey
    /// nil: delete.
    let raw: [UInt8]?
}

/// A table: items by canonical key bytes, the optional stream, the write
/// log. Owned by the stand-in's state lock.
final class TableState {
    let spec: StandInTableSpec
    let schema: KeySchema
    let arn: String
    let createdAt: Double
    var items: [[UInt8]: StoredItem] = [:]
    var stream: StreamState?
    var writeLog: [StandInAppliedWrite] = []
    /// Items ordered for Scan: by key hash, then key bytes. nil when an
    /// insert or delete has made it stale.
    private var scanOrderCache: [ScanEntry]?

    struct ScanEntry {
        let hash: UInt64
        let keyBytes: [UInt8]

        static func < (a: ScanEntry, b: ScanEntry) -> Bool {
            a.hash != b.hash ? a.hash < b.hash : a.keyBytes.lexicographicallyPrecedes(b.keyBytes)
        }
    }

    init(spec: StandInTableSpec, arn: String, createdAt: Double) {
        self.spec = spec
        self.schema = spec.keySchema
        self.arn = arn
        self.createdAt = createdAt
    }

    var scanOrder: [ScanEntry] {
        if let scanOrderCache { return scanOrderCache }
        let order = items.values.map { ScanEntry(hash: $0.key.stableHash, keyBytes: $0.key.bytes) }.sorted(by: <)
        scanOrderCache = order
        return order
    }

    /// Stores or removes one item; returns the item it replaced.
    func store(_ write: ParsedWrite) -> StoredItem? {
        if let raw = write.raw {
            let old = items.updateValue(StoredItem(key: write.key, raw: raw), forKey: write.key.bytes)
            if old == nil { scanOrderCache = nil }
            return old
        }
        let old = items.removeValue(forKey: write.key.bytes)
        if old != nil { scanOrderCache = nil }
        return old
    }

    var byteCount: Int { items.values.reduce(0) { $0 + $1.raw.count } }
}
