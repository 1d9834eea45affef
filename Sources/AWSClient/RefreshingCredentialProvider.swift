import Foundation
import Synchronization

/// Caches another provider's credentials and fetches new ones before the old expire.
///
/// Credentials are fresh until `refreshWindow` (5 minutes) before their
/// `expiration`; credentials without one stay fresh for good. When they
/// turn stale one caller refreshes while the others keep using the still
/// valid old credentials; only once they have expired do callers wait for
/// the refresh. A failed refresh is not fatal while the old credentials are
/// valid, and is retried at most every `retryInterval` (10 s) so a flaky
/// endpoint is not hammered on every request.
///
/// Thread-safe: two `Mutex`es, one for the cached state (held for
/// nanoseconds), one that makes refreshes take turns (held across the
/// blocking fetch).
public final class RefreshingCredentialProvider: CredentialProvider {
    public static let defaultRefreshWindow: TimeInterval = 5 * 60
    public static let defaultRetryInterval: TimeInterval = 10

    public let name: String
    public let refreshWindow: TimeInterval
    public let retryInterval: TimeInterval
    private let base: any CredentialProvider
    private let clock: @Sendable () -> Date

    private struct State: Sendable {
        var credentials: Credentials?
        var lastAttempt: Date?
    }
    private let state = Mutex(State())
    private let refreshTurn = Mutex(())

    /// - Parameters:
    ///   - base: usually ``CredentialChain/default(explicit:environment:transport:metadataTransport:profile:containerHost:metadataEndpoint:clock:)``.
    ///   - clock: injectable for tests.
    public init(_ base: any CredentialProvider,
                refreshWindow: TimeInterval = RefreshingCredentialProvider.defaultRefreshWindow,
                retryInterval: TimeInterval = RefreshingCredentialProvider.defaultRetryInterval,
                clock: @escaping @Sendable () -> Date = { Date() }) {
        self.base = base
        self.name = base.name
        self.refreshWindow = refreshWindow
        self.retryInterval = retryInterval
        self.clock = clock
    }

    public func credentials() throws -> Credentials? {
        let now = clock()
        let snapshot = state.withLock { $0 }
        if let cached = snapshot.credentials {
            if isFresh(cached, now: now) { return cached }
            if !isExpired(cached, now: now) {
                // Stale but usable: refresh unless someone else is, or tried just now.
                if let last = snapshot.lastAttempt, now.timeIntervalSince(last) < retryInterval { return cached }
                let refreshed = try? refreshTurn.withLockIfAvailable { _ in try refresh(now: clock()) }
                return (refreshed ?? nil) ?? cached
            }
        }
        return try refreshTurn.withLock { _ in try refresh(now: clock()) }
    }

    /// Forgets the cached credentials, so the next call fetches new ones (say
    /// after AWS answered `ExpiredTokenException`).
    public func invalidate() {
        state.withLock { $0 = State() }
    }

    /// Runs with `refreshTurn` held. Another caller may have refreshed while
    /// this one waited for its turn; then its result is used.
    private func refresh(now: Date) throws -> Credentials? {
        let current = state.withLock { $0.credentials }
        if let current, isFresh(current, now: now) { return current }
        state.withLock { $0.lastAttempt = now }
        do {
            let fresh = try base.credentials()
            if let fresh {
                state.withLock { $0.credentials = fresh }
                return fresh
            }
        } catch {
            if let current, !isExpired(current, now: now) { return current }
            throw error
        }
        if let current, !isExpired(current, now: now) { return current }
        state.withLock { $0.credentials = nil }
        return nil
    }

    private func isFresh(_ credentials: Credentials, now: Date) -> Bool {
        guard let expiration = credentials.expiration else { return true }
        return now < expiration.addingTimeInterval(-refreshWindow)
    }

    private func isExpired(_ credentials: Credentials, now: Date) -> Bool {
        guard let expiration = credentials.expiration else { return false }
        return now >= expiration
    }
}
