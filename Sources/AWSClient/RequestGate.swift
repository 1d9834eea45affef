#if canImport(Glibc)
import Glibc
#endif

/// A last check before a request leaves this thread, and while it is in
/// flight.
///
/// A lease holder must not write for a shard once its lease may have passed
/// to another worker. Checking before building a request leaves a gap: a
/// process paused (SIGSTOP, a long GC-like stall, a VM freeze) between the
/// check and the send would wake up and send anyway. Under a gate, the HTTP
/// layer asks `allow` again right before the request's first byte goes out
/// (libcurl's pre-request callback, after the connection is made) and every
/// few milliseconds while the exchange runs; a `false` stops the transfer
/// with an ``HTTPError`` of kind `.withheld`. A request whose bytes had all
/// left before the pause may still be applied: no client can take that back.
public enum RequestGate {
    /// Runs `body` with `allow` consulted for every request this thread
    /// sends meanwhile. Gates do not nest: the inner one replaces the outer.
    public static func guarding<T, E: Error>(_ allow: () -> Bool, _ body: () throws(E) -> T) throws(E) -> T {
        try withoutActuallyEscaping(allow) { allow throws(E) -> T in
            let box = Box(allow)
            let previous = pthread_getspecific(gateKey)
            pthread_setspecific(gateKey, Unmanaged.passUnretained(box).toOpaque())
            defer { pthread_setspecific(gateKey, previous) }
            return try withExtendedLifetime(box) { () throws(E) -> T in try body() }
        }
    }

    /// The gate of this thread, if any.
    static var current: (() -> Bool)? {
        guard let raw = pthread_getspecific(gateKey) else { return nil }
        return Unmanaged<Box>.fromOpaque(raw).takeUnretainedValue().allow
    }

    private final class Box {
        let allow: () -> Bool
        init(_ allow: @escaping () -> Bool) { self.allow = allow }
    }
}

/// Thread-specific slot of ``RequestGate``; a global `let` is created once.
private let gateKey: pthread_key_t = {
    var key = pthread_key_t()
    precondition(pthread_key_create(&key, nil) == 0, "pthread_key_create failed")
    return key
}()
