import Foundation

/// Providers tried in order; the first that has credentials wins.
///
/// A provider that returns nil is skipped; one that throws stops the chain
/// (a broken profile must not be silently replaced by instance credentials),
/// and the error names that provider. The chain does not cache: wrap it in a
/// ``RefreshingCredentialProvider``.
public struct CredentialChain: CredentialProvider {
    public let name = "chain"
    public let providers: [any CredentialProvider]

    public init(_ providers: [any CredentialProvider]) {
        self.providers = providers
    }

    /// The AWS SDK order: explicit credentials (if given), environment
    /// variables, the shared profile files, the ECS container endpoint, EC2
    /// instance metadata (IMDSv2).
    ///
    /// - Parameters:
    ///   - explicit: credentials from Ferry's configuration; they beat everything.
    ///   - environment: the process environment unless a test injects one.
    ///   - transport: carries the container-endpoint requests.
    ///   - metadataTransport: carries the instance-metadata requests; give it
    ///     short timeouts (1 s connect, 2 s total). Defaults to `transport`.
    ///   - profile: a profile named in Ferry's configuration; beats `AWS_PROFILE`.
    ///   - containerHost: where a relative container URI points (tests).
    ///   - metadataEndpoint: overrides `AWS_EC2_METADATA_SERVICE_ENDPOINT` (tests).
    ///   - clock: for the instance-metadata session token.
    public static func `default`(
        explicit: Credentials? = nil,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        transport: any HTTPTransport,
        metadataTransport: (any HTTPTransport)? = nil,
        profile: String? = nil,
        containerHost: String = ECSCredentialProvider.defaultContainerHost,
        metadataEndpoint: String? = nil,
        clock: @escaping @Sendable () -> Date = { Date() }
    ) -> CredentialChain {
        var providers: [any CredentialProvider] = []
        if let explicit { providers.append(StaticCredentialProvider(explicit, name: "config")) }
        providers.append(EnvironmentCredentialProvider(environment: environment))
        providers.append(ProfileCredentialProvider(environment: environment, profile: profile))
        providers.append(ECSCredentialProvider(environment: environment, transport: transport, containerHost: containerHost))
        providers.append(InstanceMetadataCredentialProvider(environment: environment, transport: metadataTransport ?? transport,
                                                            endpoint: metadataEndpoint, clock: clock))
        return CredentialChain(providers)
    }

    /// The first provider's credentials, or nil when no provider has any.
    public func credentials() throws -> Credentials? {
        try resolveIfAny()?.credentials
    }

    /// The credentials and the name of the provider that gave them (worth
    /// logging once at start).
    /// - Throws: ``CredentialError/Code/noCredentials`` when no provider had any.
    public func resolve() throws -> (credentials: Credentials, provider: String) {
        if let found = try resolveIfAny() { return found }
        throw CredentialError(.noCredentials, provider: name,
                              message: "no credentials found; tried \(providers.map(\.name).joined(separator: ", "))")
    }

    private func resolveIfAny() throws -> (credentials: Credentials, provider: String)? {
        for provider in providers {
            do {
                if let found = try provider.credentials() { return (found, provider.name) }
            } catch let error as CredentialError {
                throw error
            } catch let error as HTTPError {
                throw CredentialError(.transport, provider: provider.name, message: error.description)
            } catch {
                // Only the type: a foreign error's description might quote a secret.
                throw CredentialError(.providerFailed, provider: provider.name, message: "failed with \(type(of: error))")
            }
        }
        return nil
    }
}
