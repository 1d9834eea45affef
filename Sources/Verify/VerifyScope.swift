import DynamoModel

/// Which items a verification compares.
public enum VerifyScope: Sendable, Equatable {
    /// Every item of both tables (the default).
    case all
    /// About `count` items of the source, spread over every segment (the
    /// first `count / segments` of each: DynamoDB orders a segment by key
    /// hash, so that is an even sample); the target's extra-item check
    /// samples the same number.
    case sample(Int)
    /// Only these segments of a parallel Scan into `total`, for example
    /// segment 3 of 16 (`--segments 3/16`), on both tables.
    case segments([Int], total: Int)
    /// Only these keys (`--keys FILE`), read from both tables.
    case keys([Item])

    /// Parses `--segments`: `3/16`, `0-3/16` or `1,5,9/16` (zero-based).
    public static func parseSegments(_ text: String) throws(VerifyError) -> VerifyScope {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let total = Int(parts[1].trimmed), total >= 1, total <= 1_000_000 else {
            throw .invalidOption("--segments takes SEGMENT/TOTAL, e.g. 3/16 (segments count from 0), not '\(text)'")
        }
        var chosen: Set<Int> = []
        for item in parts[0].split(separator: ",") {
            let bounds = item.split(separator: "-", omittingEmptySubsequences: false)
            guard (1...2).contains(bounds.count), let low = Int(bounds[0].trimmed),
                  let high = Int(bounds[bounds.count - 1].trimmed), low <= high else {
                throw .invalidOption("--segments: '\(item)' is not a segment number or a range like 0-3")
            }
            guard low >= 0, high < total else {
                throw .invalidOption("--segments: segments of \(total) are numbered 0 to \(total - 1), not \(item)")
            }
            chosen.formUnion(low...high)
        }
        guard !chosen.isEmpty else { throw .invalidOption("--segments names no segment: '\(text)'") }
        return .segments(chosen.sorted(), total: total)
    }

    /// A short description for the summary and the log.
    public var description: String {
        switch self {
        case .all: return "all items"
        case .sample(let n): return "a sample of \(n) items"
        case .segments(let list, let total):
            return list.count == 1 ? "segment \(list[0]) of \(total)" : "segments \(list.map(String.init).joined(separator: ",")) of \(total)"
        case .keys(let keys): return "\(keys.count) keys from a file"
        }
    }
}

extension Substring {
    var trimmed: Substring {
        var s = self
        while let c = s.first, c.isWhitespace { s.removeFirst() }
        while let c = s.last, c.isWhitespace { s.removeLast() }
        return s
    }
}
