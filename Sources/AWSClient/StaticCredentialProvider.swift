/// Credentials given explicitly, from Ferry's configuration file or flags.
/// Alternator endpoints usually use these.
public struct StaticCredentialProvider: CredentialProvider {
    public let name: String
    private let value: Credentials

    /// - Parameter name: how errors and logs refer to this source ("config", "alternator").
    public init(_ credentials: Credentials, name: String = "static") {
        self.value = credentials
        self.name = name
    }

    /// - Parameter name: how errors and logs refer to this source.
    public init(accessKeyId: String, secretAccessKey: String, sessionToken: String? = nil, name: String = "static") {
        self.init(Credentials(accessKeyId: accessKeyId, secretAccessKey: secretAccessKey, sessionToken: sessionToken), name: name)
    }

    /// The credentials; an error when the key id or the secret is empty, as a
    /// half-filled configuration must not silently fall through to another source.
    public func credentials() throws -> Credentials? {
        if value.accessKeyId.isEmpty || value.secretAccessKey.isEmpty {
            let missing = value.accessKeyId.isEmpty ? "access key id" : "secret access key"
            throw CredentialError(.incomplete, provider: name, message: "the \(missing) is empty")
        }
        return value
    }
}
