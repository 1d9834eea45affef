import Synchronization

/// Remembers the last few SigV4 signing keys.
///
/// A signing key depends only on (secret, day, region, service) and costs
/// four HMACs to derive; a busy client signs thousands of requests per key.
/// The cache holds at most `capacity` keys and evicts the least recently
/// used one, which is plenty for one process that talks to a handful of
/// services in one or two regions.
public final class SigningKeyCache: Sendable {
    /// The cache ``SigV4Signer`` uses unless it is given another one.
    public static let shared = SigningKeyCache()

    private struct Entry: Sendable {
        var secret: String
        var day: String
        var region: String
        var service: String
        var key: [UInt8]
    }

    private let capacity: Int
    /// Most recently used last.
    private let entries = Mutex<[Entry]>([])

    public init(capacity: Int = 8) {
        self.capacity = max(1, capacity)
    }

    /// The cached key for these inputs, or the result of `derive`, which is
    /// then cached. `derive` runs outside the lock.
    func key(secret: String, day: String, region: String, service: String, derive: () -> [UInt8]) -> [UInt8] {
        let hit: [UInt8]? = entries.withLock { entries in
            guard let index = entries.firstIndex(where: {
                $0.day == day && $0.region == region && $0.service == service && $0.secret == secret
            }) else { return nil }
            let entry = entries.remove(at: index)
            entries.append(entry)
            return entry.key
        }
        if let hit { return hit }

        let key = derive()
        let entry = Entry(secret: secret, day: day, region: region, service: service, key: key)
        entries.withLock { entries in
            if entries.count >= capacity { entries.removeFirst(entries.count - capacity + 1) }
            entries.append(entry)
        }
        return key
    }

    /// How many keys are cached (for tests).
    public var count: Int { entries.withLock { $0.count } }
}
