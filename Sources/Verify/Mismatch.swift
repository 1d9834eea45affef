import DynamoModel

/// How an item differs between source and target.
public enum MismatchKind: String, Sendable, Hashable, CaseIterable {
    /// In the source, not in the target.
    case missingInTarget = "missing_in_target"
    /// In the target, not in the source.
    case extraInTarget = "extra_in_target"
    /// In both, with different attributes.
    case different
}

/// What comparing one key's source and target items found.
public enum Verdict: Sendable, Equatable {
    /// The same to DynamoDB (or absent from both).
    case equal
    case missingInTarget
    case extraInTarget
    /// Both present; the top-level attributes that differ, sorted by name.
    case different([AttributeDifference])

    /// Compares with DynamoDB semantics (``AttributeValue/semanticallyEquals(_:)``).
    public init(source: Item?, target: Item?) {
        switch (source, target) {
        case (nil, nil): self = .equal
        case (.some, nil): self = .missingInTarget
        case (nil, .some): self = .extraInTarget
        case (.some(let s), .some(let t)):
            if s.semanticallyEquals(t) {
                self = .equal
            } else {
                self = .different(s.diff(t))
            }
        }
    }

    public var kind: MismatchKind? {
        switch self {
        case .equal: nil
        case .missingInTarget: .missingInTarget
        case .extraInTarget: .extraInTarget
        case .different: .different
        }
    }
}

/// One difference that persisted through every re-check: a line of the
/// mismatch report.
public struct Mismatch: Sendable, Equatable {
    public var kind: MismatchKind
    /// The primary key attributes.
    public var key: Item
    /// For `.different`: which attributes differ and how.
    public var differences: [AttributeDifference]
    /// The source item as last read (nil when absent); used for the values
    /// of differing attributes when the report includes them.
    public var source: Item?
    /// The target item as last read (nil when absent).
    public var target: Item?
    /// Whether `--repair` fixed it (the re-check after the write agreed).
    public var repaired: Bool
    /// Unix seconds of the last read that still saw the difference.
    public var observedAt: Double

    public init(kind: MismatchKind, key: Item, differences: [AttributeDifference] = [], source: Item?, target: Item?,
                repaired: Bool = false, observedAt: Double) {
        self.kind = kind
        self.key = key
        self.differences = differences
        self.source = source
        self.target = target
        self.repaired = repaired
        self.observedAt = observedAt
    }

    /// One JSON line (without the newline):
    ///
    ///     {"kind":"different","key":{"pk":{"S":"a"}},"attributes":[{"name":"price",
    ///      "difference":"value_differs","source":{"N":"2"},"target":{"N":"3"}}],
    ///      "repaired":false,"observed_at":1767225600.123}
    ///
    /// `source`/`target` values appear only with `includeValues`.
    public func jsonLine(includeValues: Bool) -> [UInt8] {
        var w = DynamoJSONWriter(capacity: 256)
        w.sortsKeys = true
        w.beginObject()
        w.writeKey("kind"); w.writeString(kind.rawValue)
        w.writeKey("key"); w.writeItem(key)
        if kind == .different {
            w.writeKey("attributes"); w.beginArray()
            for difference in differences {
                w.beginObject()
                w.writeKey("name"); w.writeString(difference.name)
                w.writeKey("difference"); w.writeString(difference.kind.rawValue)
                if includeValues {
                    if let value = source?[difference.name] { w.writeKey("source"); w.writeAttributeValue(value) }
                    if let value = target?[difference.name] { w.writeKey("target"); w.writeAttributeValue(value) }
                }
                w.endObject()
            }
            w.endArray()
        }
        w.writeKey("repaired"); w.writeBool(repaired)
        w.writeKey("observed_at"); w.writeNumberText(String(Double(Int64(observedAt * 1000)) / 1000))
        w.endObject()
        return w.bytes
    }
}
