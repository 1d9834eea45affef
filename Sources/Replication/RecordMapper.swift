import AWSClient
import DynamoModel

/// How stream records become target writes.
public struct MappingOptions: Sendable {
    public enum ModifyAs: Sendable, Equatable { case put, update }
    public enum TTLDeletes: Sendable, Equatable { case replicate, skip }

    public var targetTable: String
    public var keySchema: KeySchema
    public var viewType: StreamViewType
    public var modifyAs: ModifyAs = .put
    public var ttlDeletes: TTLDeletes = .replicate

    public init(targetTable: String, keySchema: KeySchema, viewType: StreamViewType) {
        self.targetTable = targetTable
        self.keySchema = keySchema
        self.viewType = viewType
    }
}

/// What one stream record asks of the target.
public enum MappedRecord: Sendable {
    case change(Change)
    /// A TTL expiry the policy skips (the target runs its own TTL).
    case skipTTL
    /// The record carries no new image (KEYS_ONLY, OLD_IMAGE): read the
    /// current item from the source, then put it, or delete when it is gone.
    case fetch(key: ItemKey)
    /// A MODIFY that changed nothing the update form can express.
    case nothing
}

/// Why a record could not be mapped: bad bytes from the stream.
public struct RecordMappingError: Error, Sendable, CustomStringConvertible {
    public var sequence: String
    public var reason: String
    public var description: String { "stream record \(sequence) is malformed: \(reason)" }
}

/// Maps stream records to changes. On the hot path (a put of the new
/// image) it validates the image, decodes only the key attributes, and
/// copies the image's bytes as they came.
public struct RecordMapper: Sendable {
    public let options: MappingOptions

    public init(options: MappingOptions) { self.options = options }

    public func map(_ record: StreamRecord, origin: Change.Origin) throws(RecordMappingError) -> MappedRecord {
        do {
            switch record.eventName {
            case "INSERT", "MODIFY":
                guard options.viewType.carriesNewImage, let image = record.newImage else {
                    return .fetch(key: try options.keySchema.key(ofItemIn: record.keys.buffer, range: record.keys.rawRange))
                }
                // Checked and keyed while the page was walked, or now.
                let key = try record.newImageKey ?? options.keySchema.key(ofItemIn: image.buffer, range: image.rawRange)
                if record.eventName == "MODIFY", options.modifyAs == .update, let old = record.oldImage {
                    guard let body = try updateBody(key: key, old: old.readItem(), new: image.readItem()) else { return .nothing }
                    return .change(Change(kind: .update, key: key, payload: body, origin: origin))
                }
                return .change(Change(kind: .put, key: key, payload: Array(image.rawBytes), origin: origin))
            case "REMOVE":
                if record.isTTLExpiry && options.ttlDeletes == .skip { return .skipTTL }
                let key = try options.keySchema.key(ofItemIn: record.keys.buffer, range: record.keys.rawRange)
                var w = DynamoJSONWriter(capacity: 64)
                w.writeItem(key.attributes)
                return .change(Change(kind: .delete, key: key, payload: w.bytes, origin: origin))
            default:
                throw RecordMappingError(sequence: record.sequenceNumber, reason: "unknown eventName '\(record.eventName.prefix(20))'")
            }
        } catch let error as RecordMappingError {
            throw error
        } catch {
            throw RecordMappingError(sequence: record.sequenceNumber, reason: "\(error)")
        }
    }

    /// The change for a `.fetch` once the source has answered.
    public func change(forCurrent item: Item?, key: ItemKey, origin: Change.Origin) -> Change {
        var w = DynamoJSONWriter(capacity: 512)
        if let item {
            w.writeItem(item)
            return Change(kind: .put, key: key, payload: w.bytes, origin: origin)
        }
        w.writeItem(key.attributes)
        return Change(kind: .delete, key: key, payload: w.bytes, origin: origin)
    }

    /// An UpdateItem body that turns `old` into `new`: SET for attributes
    /// added or changed, REMOVE for attributes dropped. Attributes that only
    /// the target has are left alone. nil when nothing changed.
    func updateBody(key: ItemKey, old: Item, new: Item) throws -> [UInt8]? {
        let keyNames = Set(options.keySchema.attributeNames)
        let set = new.keys.filter { !keyNames.contains($0) && !(old[$0]?.semanticallyEquals(new[$0]!) ?? false) }.sorted()
        let removed = old.keys.filter { !keyNames.contains($0) && new[$0] == nil }.sorted()
        guard !set.isEmpty || !removed.isEmpty else { return nil }

        var names: [(String, String)] = []
        var values: Item = [:]
        var clauses: [String] = []
        for (i, name) in set.enumerated() {
            names.append(("#s\(i)", name))
            values[":s\(i)"] = new[name]
            clauses.append("#s\(i) = :s\(i)")
        }
        var expression = clauses.isEmpty ? "" : "SET " + clauses.joined(separator: ", ")
        if !removed.isEmpty {
            var removals: [String] = []
            for (i, name) in removed.enumerated() {
                names.append(("#r\(i)", name))
                removals.append("#r\(i)")
            }
            expression += (expression.isEmpty ? "" : " ") + "REMOVE " + removals.joined(separator: ", ")
        }
        var w = DynamoJSONWriter(capacity: 256)
        w.beginObject()
        w.writeKey("TableName"); w.writeString(options.targetTable)
        w.writeKey("Key"); w.writeItem(key.attributes)
        w.writeKey("UpdateExpression"); w.writeString(expression)
        w.writeKey("ExpressionAttributeNames")
        w.beginObject()
        for (placeholder, name) in names { w.writeKey(placeholder); w.writeString(name) }
        w.endObject()
        if !values.isEmpty {
            w.writeKey("ExpressionAttributeValues"); w.writeItem(values)
        }
        w.endObject()
        return w.bytes
    }
}
