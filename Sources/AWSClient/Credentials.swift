import Foundation

/// AWS credentials. `description` never shows the secret or the token.
public struct Credentials: Sendable, Equatable, CustomStringConvertible {
    public var accessKeyId: String
    public var secretAccessKey: String
    public var sessionToken: String?
    /// When temporary credentials stop working; nil for long-term keys.
    public var expiration: Date?

    public init(accessKeyId: String, secretAccessKey: String, sessionToken: String? = nil, expiration: Date? = nil) {
        self.accessKeyId = accessKeyId
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
        self.expiration = expiration
    }

    public var description: String {
        let suffix = accessKeyId.count > 4 ? String(accessKeyId.suffix(4)) : ""
        return "Credentials(accessKeyId: ****\(suffix), secret: <redacted>\(sessionToken == nil ? "" : ", token: <redacted>"))"
    }
}

/// Something that can hand out credentials. Providers are tried in order by
/// ``CredentialChain``; `nil` means "not configured here, try the next one",
/// a thrown error means "configured here but broken" (which stops the chain,
/// so a typo in a profile is not silently replaced by instance credentials).
public protocol CredentialProvider: Sendable {
    var name: String { get }
    func credentials() throws -> Credentials?
}
