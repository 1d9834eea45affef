import DynamoModel

/// One line of a DYNAMODB_JSON export, as a change to apply.
///
/// A full export's line `{"Item": {…}}` is a put of the item. An
/// incremental export's line
/// `{"Metadata":{"WriteTimestampMicros":{"N":"…"}},"Keys":{…},"NewImage":{…},"OldImage":{…}}`
/// is a put of `NewImage` when it has one, else a delete of `Keys` (the
/// item was deleted in the export window; `OldImage` is there only with the
/// `NEW_AND_OLD_IMAGES` view and is not needed).
///
/// The payloads are the exact DynamoDB JSON bytes of the line, checked
/// against the DynamoDB rules, ready to copy into a BatchWriteItem body.
public enum ExportRecord: Sendable, Hashable {
    /// Put this item (DynamoDB JSON of the whole item).
    case put(item: [UInt8], writeTimestampMicros: Int64?)
    /// Delete the item with these keys (DynamoDB JSON of the key attributes).
    case delete(keys: [UInt8], writeTimestampMicros: Int64?)

    /// The item (put) or key (delete) bytes.
    public var payload: [UInt8] {
        switch self {
        case .put(let item, _): item
        case .delete(let keys, _): keys
        }
    }

    /// When DynamoDB applied the write, in microseconds since 1970; only
    /// incremental exports carry it.
    public var writeTimestampMicros: Int64? {
        switch self {
        case .put(_, let micros), .delete(_, let micros): micros
        }
    }

    /// Reads one export line and extracts the primary key (which the caller
    /// hashes to a writer lane).
    ///
    /// The item (or key) is validated in full with ``KeySchema/key(ofItemIn:range:)``;
    /// for an incremental put that also has `Keys`, the two keys must agree.
    ///
    /// - Throws: ``ExportError`` `.invalidLine` with the reason and, for bad
    ///   JSON, the byte offset in the line; never the line's content. The
    ///   file and line number are for the caller to add.
    public static func parse(line: [UInt8], type: ExportManifest.ExportType,
                             keySchema: KeySchema) throws -> (record: ExportRecord, key: ItemKey) {
        if type == .full { return try parseFull(line: line, keySchema: keySchema) }
        let view: JSONView
        do {
            view = try JSONView(line)
        } catch {
            throw ExportError(.invalidLine, "\(error)")
        }
        guard view.kind == .object else {
            throw ExportError(.invalidLine, "the line is not a JSON object")
        }
        switch type {
        case .full:
            guard let item = view["Item"] else {
                let hint = view["Keys"] != nil ? " (an incremental export's line, yet the manifest says FULL_EXPORT)" : ""
                throw ExportError(.invalidLine, "the line has no \"Item\"\(hint)")
            }
            let key = try itemKey(line, item, "Item", keySchema)
            return (.put(item: Array(item.rawBytes), writeTimestampMicros: nil), key)
        case .incremental:
            let micros = try writeTimestamp(view["Metadata"])
            let keys = view["Keys"]
            if let image = view["NewImage"], !image.isNull {
                let key = try itemKey(line, image, "NewImage", keySchema)
                if let keys, try itemKey(line, keys, "Keys", keySchema) != key {
                    throw ExportError(.invalidLine, "\"Keys\" and the key of \"NewImage\" differ")
                }
                return (.put(item: Array(image.rawBytes), writeTimestampMicros: micros), key)
            }
            guard let keys else {
                let hint = view["Item"] != nil ? " (a full export's line, yet the manifest says INCREMENTAL_EXPORT)" : ""
                throw ExportError(.invalidLine, "the line has neither \"NewImage\" nor \"Keys\"\(hint)")
            }
            let key = try itemKey(line, keys, "Keys", keySchema)
            return (.delete(keys: Array(keys.rawBytes), writeTimestampMicros: micros), key)
        }
    }

    /// A full export's line in one pass: the line is checked as it is
    /// walked, and its `Item` checked against the DynamoDB rules with its
    /// key decoded on the way.
    private static func parseFull(line: [UInt8], keySchema: KeySchema) throws -> (record: ExportRecord, key: ItemKey) {
        var found: (view: JSONView, key: ItemKey)?
        var sawKeys = false
        do {
            try JSONWalker.walk(line) { w in
                guard w.next == UInt8(ascii: "{") else { throw ExportError(.invalidLine, "the line is not a JSON object") }
                try w.object { w, name in
                    if name == "Item", found == nil {
                        guard w.next == UInt8(ascii: "{") else {
                            throw ExportError(.invalidLine, "\"Item\" is not an object")
                        }
                        found = try w.item(keySchema: keySchema)
                    } else {
                        if name == "Keys" { sawKeys = true }
                        try w.skip()
                    }
                }
            }
        } catch let error as ExportError {
            throw error
        } catch let error as DynamoJSONError {
            throw ExportError(.invalidLine, "\"Item\": \(error)")
        } catch {
            throw ExportError(.invalidLine, "\(error)")
        }
        guard let found else {
            let hint = sawKeys ? " (an incremental export's line, yet the manifest says FULL_EXPORT)" : ""
            throw ExportError(.invalidLine, "the line has no \"Item\"\(hint)")
        }
        return (.put(item: Array(found.view.rawBytes), writeTimestampMicros: nil), found.key)
    }

    private static func itemKey(_ line: [UInt8], _ value: JSONView, _ name: String,
                                _ keySchema: KeySchema) throws -> ItemKey {
        guard value.kind == .object else {
            throw ExportError(.invalidLine, "\"\(name)\" is not an object")
        }
        do {
            return try keySchema.key(ofItemIn: line, range: value.rawRange)
        } catch {
            // DynamoJSONError says where and why, never what the value was.
            throw ExportError(.invalidLine, "\"\(name)\": \(error)")
        }
    }

    /// `Metadata.WriteTimestampMicros`, written as a DynamoDB number
    /// (`{"N": "…"}`); a plain JSON number is accepted too.
    private static func writeTimestamp(_ metadata: JSONView?) throws -> Int64? {
        guard let value = metadata?["WriteTimestampMicros"] else { return nil }
        let text = value["N"]?.string ?? value.numberText
        guard let text, let micros = Int64(text) else {
            throw ExportError(.invalidLine, "\"Metadata.WriteTimestampMicros\" is not a whole number")
        }
        return micros
    }
}
