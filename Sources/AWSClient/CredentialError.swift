/// Why credentials could not be had. The description names the provider and
/// what to change; it never holds a secret key, a session token or an
/// authorization token, so it is safe for logs, the status file and metrics.
public struct CredentialError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Stable codes, for metrics and for tests; the message may change.
    public enum Code: String, Sendable, Equatable {
        /// No provider in the chain had credentials.
        case noCredentials = "credentials.none"
        /// A profile named explicitly (`AWS_PROFILE` or configuration) is in neither file.
        case profileNotFound = "credentials.profile_not_found"
        /// Some but not all required values are set (a key id without a secret).
        case incomplete = "credentials.incomplete"
        /// The profile asks for a credential source Ferry does not implement
        /// (role_arn, sso, credential_process, web identity).
        case unsupportedSource = "credentials.unsupported_source"
        /// A setting is present but unusable (a bad URL, a forbidden host).
        case invalidConfiguration = "credentials.invalid_configuration"
        /// A file that exists could not be read.
        case fileUnreadable = "credentials.file_unreadable"
        /// The credentials endpoint could not be reached.
        case transport = "credentials.transport"
        /// The credentials endpoint answered with an error: an unexpected
        /// HTTP status, or an error `Code` in its JSON.
        case endpointError = "credentials.endpoint_error"
        /// The credentials endpoint answered with something that is not credentials.
        case malformedResponse = "credentials.malformed_response"
        /// A provider outside this module failed with an error of its own.
        case providerFailed = "credentials.provider_failed"
    }

    public var code: Code
    /// The ``CredentialProvider/name`` of the provider that failed.
    public var provider: String
    /// What went wrong and, where possible, what to change. No secrets.
    public var message: String

    public init(_ code: Code, provider: String, message: String) {
        self.code = code
        self.provider = provider
        self.message = message
    }

    public var description: String { "\(provider) credentials: \(message) [\(code.rawValue)]" }
}
