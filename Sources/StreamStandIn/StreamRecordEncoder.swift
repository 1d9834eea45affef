import DynamoModel

/// Builds the JSON of one stream record, once, when the record is written;
/// GetRecords then only concatenates stored bytes.
enum StreamRecordEncoder {
    enum EventName: String {
        case insert = "INSERT"
        case modify = "MODIFY"
        case remove = "REMOVE"
    }

    /// - Parameters:
    ///   - keys: the key attributes as DynamoDB JSON.
    ///   - newImage, oldImage: item JSON; written only if `view` carries them.
    ///   - created: the write time; `ApproximateCreationDateTime` is its
    ///     whole seconds, rounded down, as DynamoDB and Alternator write it.
    ///   - byService: a TTL deletion (`userIdentity` names DynamoDB itself).
    static func encode(
        event: EventName, sequence: UInt128, serial: Int, created: Double, keys: [UInt8],
        newImage: ArraySlice<UInt8>?, oldImage: ArraySlice<UInt8>?,
        view: StandInStreamView, region: String, byService: Bool
    ) -> [UInt8] {
        let newImage = view.carriesNewImage ? newImage : nil
        let oldImage = view.carriesOldImage ? oldImage : nil
        var w = DynamoJSONWriter(capacity: 360 + keys.count + (newImage?.count ?? 0) + (oldImage?.count ?? 0))
        w.beginObject()
        w.writeKey("awsRegion"); w.writeString(region)
        w.writeKey("dynamodb")
        w.beginObject()
        w.writeKey("ApproximateCreationDateTime"); w.writeInt(Int(created))
        w.writeKey("Keys"); w.writeRawValue(keys)
        if let newImage { w.writeKey("NewImage"); w.writeRawValue(newImage) }
        if let oldImage { w.writeKey("OldImage"); w.writeRawValue(oldImage) }
        w.writeKey("SequenceNumber"); w.writeString(SequenceNumberText.format(sequence))
        w.writeKey("SizeBytes"); w.writeInt(keys.count + (newImage?.count ?? 0) + (oldImage?.count ?? 0))
        w.writeKey("StreamViewType"); w.writeString(view.rawValue)
        w.endObject()
        w.writeKey("eventID"); w.writeString(eventID(sequence, serial: serial))
        w.writeKey("eventName"); w.writeString(event.rawValue)
        w.writeKey("eventSource"); w.writeString("aws:dynamodb")
        w.writeKey("eventVersion"); w.writeString("1.1")
        if byService {
            w.writeKey("userIdentity")
            w.writeRaw(#"{"PrincipalId":"dynamodb.amazonaws.com","Type":"Service"}"#)
        }
        w.endObject()
        return w.bytes
    }

    /// 32 hex digits derived from the sequence number and the record's
    /// serial: unique per record even where numbers repeat, shaped like
    /// DynamoDB's event IDs.
    static func eventID(_ sequence: UInt128, serial: Int) -> String {
        var a = SplitMix64(seed: UInt64(truncatingIfNeeded: sequence) ^ UInt64(serial) &* 0x9E37_79B9_7F4A_7C15)
        var b = SplitMix64(seed: UInt64(truncatingIfNeeded: sequence >> 64) ^ 0x5EED)
        return hex(a.next() ^ b.next()) + hex(a.next())
    }

    static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
