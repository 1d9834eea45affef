import Foundation

/// Credentials from `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and the
/// optional `AWS_SESSION_TOKEN`. Empty variables count as unset.
public struct EnvironmentCredentialProvider: CredentialProvider {
    public let name = "environment"
    private let environment: [String: String]

    /// - Parameter environment: the process environment unless a test injects one.
    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.environment = environment
    }

    /// nil when neither variable is set; an error naming the missing variable
    /// when only one of the two is.
    public func credentials() throws -> Credentials? {
        let keyId = nonEmpty("AWS_ACCESS_KEY_ID")
        let secret = nonEmpty("AWS_SECRET_ACCESS_KEY")
        switch (keyId, secret) {
        case (nil, nil):
            return nil
        case let (keyId?, secret?):
            return Credentials(accessKeyId: keyId, secretAccessKey: secret, sessionToken: nonEmpty("AWS_SESSION_TOKEN"))
        case (nil, _?):
            throw CredentialError(.incomplete, provider: name,
                                  message: "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not")
        case (_?, nil):
            throw CredentialError(.incomplete, provider: name,
                                  message: "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not")
        }
    }

    private func nonEmpty(_ variable: String) -> String? {
        guard let value = environment[variable], !value.isEmpty else { return nil }
        return value
    }
}
