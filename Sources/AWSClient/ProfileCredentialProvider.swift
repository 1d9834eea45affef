import Foundation

/// Static keys from the AWS shared credentials and config files (see
/// ``SharedConfigFiles`` for which files and which profile).
///
/// - The credentials file wins: if its section of the profile has a key id,
///   the config file's keys are not looked at.
/// - nil (not configured) when the profile is the implicit `default` and is
///   missing, or when the profile exists but holds no keys (say only a
///   `region`): the chain goes on to the container and instance providers.
/// - An error when a named profile is missing (the message names the profile
///   and the files looked at), when a key id comes without its secret or the
///   other way round, or when the profile asks for a source Ferry does not
///   implement (`role_arn`, `credential_process`, SSO, web identity): falling
///   through to instance credentials then would act as somebody else.
public struct ProfileCredentialProvider: CredentialProvider {
    public let name = "profile"
    private let environment: [String: String]
    private let profile: String?

    /// Settings that select a credential source this provider does not implement.
    static let unsupportedKeys = ["role_arn", "credential_process", "credential_source", "sso_session",
                                  "sso_start_url", "sso_account_id", "web_identity_token_file"]

    /// - Parameters:
    ///   - environment: the process environment unless a test injects one.
    ///   - profile: a profile named in Ferry's own configuration; beats `AWS_PROFILE`.
    public init(environment: [String: String] = ProcessInfo.processInfo.environment, profile: String? = nil) {
        self.environment = environment
        self.profile = profile
    }

    public func credentials() throws -> Credentials? {
        let files: SharedConfigFiles
        do {
            files = try SharedConfigFiles.load(environment: environment, profile: profile)
        } catch {
            throw CredentialError(error.code, provider: name, message: error.message)
        }
        let profileName = files.profileName

        guard files.profileExists else {
            if files.profileIsExplicit {
                throw CredentialError(.profileNotFound, provider: name,
                                      message: "profile '\(profileName)' not found in \(files.searchedFiles)")
            }
            return nil
        }

        if let section = files.credentialsProfile,
           let found = try credentials(in: section, profile: profileName, path: files.credentialsPath) {
            return found
        }
        if let section = files.configProfile,
           let found = try credentials(in: section, profile: profileName, path: files.configPath) {
            return found
        }

        let sections = [files.credentialsProfile, files.configProfile].compactMap { $0 }
        if let key = Self.unsupportedKeys.first(where: { key in sections.contains { $0[key] != nil } }) {
            throw CredentialError(.unsupportedSource, provider: name,
                                  message: "profile '\(profileName)' uses '\(key)', which Ferry does not support; "
                                      + "give it aws_access_key_id and aws_secret_access_key, or use environment variables")
        }
        return nil
    }

    /// The static keys of one section; nil when it has neither.
    private func credentials(in section: [String: String], profile: String, path: String) throws -> Credentials? {
        func value(_ key: String) -> String? {
            guard let value = section[key], !value.isEmpty else { return nil }
            return value
        }
        let keyId = value("aws_access_key_id")
        let secret = value("aws_secret_access_key")
        switch (keyId, secret) {
        case (nil, nil):
            return nil
        case let (keyId?, secret?):
            return Credentials(accessKeyId: keyId, secretAccessKey: secret,
                               sessionToken: value("aws_session_token") ?? value("aws_security_token"))
        case (_?, nil):
            throw CredentialError(.incomplete, provider: name,
                                  message: "profile '\(profile)' in \(path) has aws_access_key_id but no aws_secret_access_key")
        case (nil, _?):
            throw CredentialError(.incomplete, provider: name,
                                  message: "profile '\(profile)' in \(path) has aws_secret_access_key but no aws_access_key_id")
        }
    }
}
