import DynamoModel

/// What tests read back: request counts, the write log, table contents.
extension StreamStandIn {
    /// Requests received for `operation`, faulted ones included.
    /// Every write request so far, with ``StandInConfiguration/logsWriters`` on.
    public func writeRequests() -> [StandInWriteRecord] {
        core.counters.withLock { $0.writers }
    }

    public func requestCount(_ operation: StandInOperation) -> Int {
        core.counters.withLock { $0.requests[operation] ?? 0 }
    }

    /// Requests received, by operation.
    public var requestCounts: [StandInOperation: Int] {
        core.counters.withLock { $0.requests }
    }

    /// Writes accepted from requests (in sink mode: counted and dropped).
    public var sinkCounters: StandInSinkCounters {
        core.counters.withLock { $0.sink }
    }

    /// The writes applied to `table`, in the order they were applied; only
    /// those of `key` when it is given. Empty when
    /// ``StandInConfiguration/keepsWriteLog`` is off.
    public func appliedWrites(table: String, key: Item? = nil) throws(StandInError) -> [StandInAppliedWrite] {
        try core.state.withLock { state throws(StandInError) -> [StandInAppliedWrite] in
            guard let found = state.tables[table] else { throw StandInError(.tableNotFound, "no table \(table)") }
            guard let key else { return found.writeLog }
            let keyBytes: [UInt8]
            do { keyBytes = try found.schema.keyBytes(of: key) } catch { throw StandInError(.invalidItem, "\(error)") }
            return found.writeLog.filter { $0.keyBytes == keyBytes }
        }
    }

    /// Number of items in the table.
    public func itemCount(table: String) throws(StandInError) -> Int {
        try core.state.withLock { state throws(StandInError) -> Int in
            guard let found = state.tables[table] else { throw StandInError(.tableNotFound, "no table \(table)") }
            return found.items.count
        }
    }

    /// The stored item with this key, decoded.
    public func item(table: String, key: Item) throws(StandInError) -> Item? {
        let raw = try core.state.withLock { state throws(StandInError) -> [UInt8]? in
            guard let found = state.tables[table] else { throw StandInError(.tableNotFound, "no table \(table)") }
            do { return found.items[try found.schema.keyBytes(of: key)]?.raw } catch { throw StandInError(.invalidItem, "\(error)") }
        }
        return try raw.map { raw throws(StandInError) in try Self.decode(raw) }
    }

    /// Every item of the table, decoded.
    public func snapshot(table: String) throws(StandInError) -> StandInTableSnapshot {
        let (schema, stored) = try core.state.withLock { state throws(StandInError) -> (KeySchema, [StoredItem]) in
            guard let found = state.tables[table] else { throw StandInError(.tableNotFound, "no table \(table)") }
            return (found.schema, Array(found.items.values))
        }
        var items: [ItemKey: Item] = [:]
        items.reserveCapacity(stored.count)
        for item in stored { items[item.key] = try Self.decode(item.raw) }
        return StandInTableSnapshot(schema: schema, items: items)
    }

    /// Compares two tables of this stand-in item by item.
    public func compareTables(_ first: String, _ second: String) throws(StandInError) -> StandInTableComparison {
        try snapshot(table: first).compare(to: snapshot(table: second))
    }

    private static func decode(_ raw: [UInt8]) throws(StandInError) -> Item {
        do { return try DynamoJSONReader.readItem(raw) } catch { throw StandInError(.invalidItem, "\(error)") }
    }
}
