import Foundation

/// The AWS shared credentials and config files of one process, and the
/// profile selected in them, located the way the AWS CLI does it:
///
/// - profile: the one asked for, else `AWS_PROFILE`, else `default`;
/// - credentials file: `AWS_SHARED_CREDENTIALS_FILE`, else `~/.aws/credentials`;
/// - config file: `AWS_CONFIG_FILE`, else `~/.aws/config`;
/// - `~` is `HOME` from the environment (the user's home directory without it).
///
/// A missing file is an empty one. Endpoint and region resolution read
/// ``region`` from here; ``ProfileCredentialProvider`` reads the keys.
public struct SharedConfigFiles: Sendable, Equatable {
    public var profileName: String
    /// True when the profile was named (by the caller or `AWS_PROFILE`)
    /// rather than being `default` by default: a missing named profile is an
    /// error, a missing default profile just means "not configured".
    public var profileIsExplicit: Bool
    public var credentialsPath: String
    public var configPath: String
    /// nil when the file does not exist.
    public var credentialsFile: ProfileFile?
    /// nil when the file does not exist.
    public var configFile: ProfileFile?

    public init(profileName: String, profileIsExplicit: Bool, credentialsPath: String, configPath: String,
                credentialsFile: ProfileFile?, configFile: ProfileFile?) {
        self.profileName = profileName
        self.profileIsExplicit = profileIsExplicit
        self.credentialsPath = credentialsPath
        self.configPath = configPath
        self.credentialsFile = credentialsFile
        self.configFile = configFile
    }

    /// Finds and reads both files.
    ///
    /// - Parameters:
    ///   - environment: the process environment unless a test injects one.
    ///   - profile: a profile named in Ferry's own configuration; beats `AWS_PROFILE`.
    /// - Throws: ``CredentialError/Code/fileUnreadable`` when a file exists but cannot be read.
    public static func load(environment: [String: String] = ProcessInfo.processInfo.environment,
                            profile: String? = nil) throws(CredentialError) -> SharedConfigFiles {
        let named = nonEmpty(profile) ?? nonEmpty(environment["AWS_PROFILE"])
        let home = nonEmpty(environment["HOME"]) ?? NSHomeDirectory()
        let credentialsPath = expandTilde(nonEmpty(environment["AWS_SHARED_CREDENTIALS_FILE"]) ?? "~/.aws/credentials", home: home)
        let configPath = expandTilde(nonEmpty(environment["AWS_CONFIG_FILE"]) ?? "~/.aws/config", home: home)
        return SharedConfigFiles(
            profileName: named ?? "default",
            profileIsExplicit: named != nil,
            credentialsPath: credentialsPath,
            configPath: configPath,
            credentialsFile: try ProfileFile.load(path: credentialsPath, kind: .credentials),
            configFile: try ProfileFile.load(path: configPath, kind: .config))
    }

    /// The selected profile's section of the credentials file.
    public var credentialsProfile: [String: String]? { credentialsFile?.profile(profileName) }

    /// The selected profile's section of the config file.
    public var configProfile: [String: String]? { configFile?.profile(profileName) }

    /// Whether either file has the selected profile.
    public var profileExists: Bool { credentialsProfile != nil || configProfile != nil }

    /// A setting of the selected profile in the config file (`region`,
    /// `endpoint_url`, ...); `key` is compared case-insensitively.
    public func configValue(_ key: String) -> String? {
        guard let value = configFile?.value(key, profile: profileName), !value.isEmpty else { return nil }
        return value
    }

    /// The selected profile's `region` in the config file.
    public var region: String? { configValue("region") }

    /// "path (missing), path" for error messages.
    public var searchedFiles: String {
        [(credentialsPath, credentialsFile), (configPath, configFile)]
            .map { $0.1 == nil ? "\($0.0) (missing)" : $0.0 }
            .joined(separator: ", ")
    }

    private static func nonEmpty(_ value: String?) -> String? {
        guard let value, !value.isEmpty else { return nil }
        return value
    }

    private static func expandTilde(_ path: String, home: String) -> String {
        if path == "~" { return home }
        if path.hasPrefix("~/") { return (home.hasSuffix("/") ? String(home.dropLast()) : home) + path.dropFirst() }
        return path
    }
}
