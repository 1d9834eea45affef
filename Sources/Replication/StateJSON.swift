import Foundation

/// How Ferry's state files (checkpoint, status, backfill progress) are
/// written: sorted keys and indentation so a person can read and diff them,
/// ISO 8601 dates.
public enum StateJSON {
    public static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .prettyPrinted]
        e.dateEncodingStrategy = .iso8601
        return e
    }()

    public static let decoder: JSONDecoder = {
        let d = JSONDecoder()
        d.dateDecodingStrategy = .iso8601
        return d
    }()
}
