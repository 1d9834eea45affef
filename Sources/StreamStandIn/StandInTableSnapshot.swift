import DynamoModel

/// A table's items at one moment, decoded, for assertions and comparisons
/// (also between two stand-ins, or against items read from elsewhere).
public struct StandInTableSnapshot: Sendable {
    public let schema: KeySchema
    public let items: [ItemKey: Item]

    public init(schema: KeySchema, items: [Item]) throws {
        self.schema = schema
        var byKey: [ItemKey: Item] = [:]
        for item in items { byKey[try schema.key(of: item)] = item }
        self.items = byKey
    }

    init(schema: KeySchema, items: [ItemKey: Item]) {
        self.schema = schema
        self.items = items
    }

    public var count: Int { items.count }

    /// The item with this key (only the key attributes are looked at).
    public func item(key: Item) -> Item? {
        (try? schema.key(of: key)).flatMap { items[$0] }
    }

    /// The items, ordered by key bytes (stable across runs).
    public var sortedItems: [Item] {
        items.sorted { $0.key.bytes.lexicographicallyPrecedes($1.key.bytes) }.map(\.value)
    }

    /// How `other` differs from this snapshot, item by item, comparing
    /// values the way DynamoDB does (`1.50` equals `1.5`, sets in any order).
    public func compare(to other: StandInTableSnapshot) -> StandInTableComparison {
        var missing: [Item] = []
        var different: [(key: Item, differences: [AttributeDifference])] = []
        for (key, item) in items {
            guard let theirs = other.items[key] else {
                missing.append(key.attributes)
                continue
            }
            let differences = item.diff(theirs)
            if !differences.isEmpty { different.append((key.attributes, differences)) }
        }
        let extra = other.items.keys.filter { items[$0] == nil }.map(\.attributes)
        return StandInTableComparison(onlyInFirst: missing, onlyInSecond: extra, different: different)
    }
}

/// The outcome of comparing two tables.
public struct StandInTableComparison: Sendable {
    /// Keys of items only the first table holds.
    public let onlyInFirst: [Item]
    /// Keys of items only the second table holds.
    public let onlyInSecond: [Item]
    /// Keys present in both whose items differ, with the differing attributes.
    public let different: [(key: Item, differences: [AttributeDifference])]

    public var isIdentical: Bool { onlyInFirst.isEmpty && onlyInSecond.isEmpty && different.isEmpty }
}

extension StandInTableComparison: CustomStringConvertible {
    /// Counts and attribute names only: never item values.
    public var description: String {
        if isIdentical { return "identical" }
        let attributes = Set(different.flatMap { $0.differences.map(\.name) }).sorted()
        return "\(onlyInFirst.count) only in first, \(onlyInSecond.count) only in second, "
            + "\(different.count) different (attributes: \(attributes.joined(separator: ", ")))"
    }
}
