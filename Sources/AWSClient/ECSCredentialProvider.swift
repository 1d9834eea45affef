import Foundation

/// Credentials from the container credentials endpoint of ECS, Fargate and
/// EKS Pod Identity.
///
/// - `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` is a path on the ECS agent at
///   `http://169.254.170.2` (``defaultContainerHost``, injectable);
/// - else `AWS_CONTAINER_CREDENTIALS_FULL_URI` is the whole URL; over plain
///   http only a loopback host or the ECS/EKS link-local addresses are
///   allowed (anything else could hand the authorization token to a stranger);
/// - the `Authorization` header comes from the file named by
///   `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE` (re-read on every call, as EKS
///   rotates it), else from `AWS_CONTAINER_AUTHORIZATION_TOKEN`.
///
/// nil when neither URI variable is set. The transport should have short
/// timeouts (about 1 s to connect, 5 s in all).
public struct ECSCredentialProvider: CredentialProvider {
    public let name = "ecs"
    public static let defaultContainerHost = "http://169.254.170.2"

    private let environment: [String: String]
    private let transport: any HTTPTransport
    private let containerHost: String

    /// - Parameters:
    ///   - environment: the process environment unless a test injects one.
    ///   - containerHost: scheme and host a relative URI is resolved against;
    ///     tests point it at `http://127.0.0.1:PORT`.
    public init(environment: [String: String] = ProcessInfo.processInfo.environment,
                transport: any HTTPTransport, containerHost: String = ECSCredentialProvider.defaultContainerHost) {
        self.environment = environment
        self.transport = transport
        self.containerHost = containerHost.hasSuffix("/") ? String(containerHost.dropLast()) : containerHost
    }

    /// The URL credentials are fetched from; nil when the provider is not configured.
    public func endpointURL() throws(CredentialError) -> String? {
        if let relative = nonEmpty("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") {
            return containerHost + (relative.hasPrefix("/") ? relative : "/" + relative)
        }
        guard let full = nonEmpty("AWS_CONTAINER_CREDENTIALS_FULL_URI") else { return nil }
        let parts = SigV4URLParts(full)
        let host = Self.hostWithoutPort(parts.hostHeader)
        switch parts.scheme {
        case "https" where !host.isEmpty:
            return full
        case "http" where Self.isAllowedPlainHTTPHost(host):
            return full
        default:
            throw CredentialError(.invalidConfiguration, provider: name,
                                  message: "AWS_CONTAINER_CREDENTIALS_FULL_URI must be https, or http to a loopback "
                                      + "or container host (169.254.170.2, 169.254.170.23, fd00:ec2::23); host is '\(host)'")
        }
    }

    public func credentials() throws -> Credentials? {
        guard let url = try endpointURL() else { return nil }
        var request = HTTPRequest(method: "GET", url: url, headers: [("Accept", "application/json")])
        if let token = try authorizationToken() { request.headers.append(("Authorization", token)) }

        let host = SigV4URLParts(url).hostHeader
        let response: HTTPResponse
        do {
            response = try transport.send(request, operation: "ContainerCredentials")
        } catch {
            throw CredentialError(.transport, provider: name, message: "container endpoint \(host) unreachable: \(error.detail)")
        }
        guard response.status == 200 else {
            throw CredentialError(.endpointError, provider: name, message: "container endpoint \(host) answered HTTP \(response.status)")
        }
        return try TemporaryCredentialsJSON.credentials(from: response.body, provider: name, source: "container endpoint \(host)")
    }

    private func authorizationToken() throws(CredentialError) -> String? {
        var token: String?
        if let path = nonEmpty("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE") {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw CredentialError(.fileUnreadable, provider: name,
                                      message: "cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE \(path)")
            }
            token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        } else {
            token = nonEmpty("AWS_CONTAINER_AUTHORIZATION_TOKEN")
        }
        guard let token, !token.isEmpty else { return nil }
        // Bytes, not Characters: CR LF is a single Character that equals neither.
        if token.utf8.contains(where: { $0 == UInt8(ascii: "\r") || $0 == UInt8(ascii: "\n") }) {
            throw CredentialError(.invalidConfiguration, provider: name, message: "the container authorization token contains a line break")
        }
        return token
    }

    private func nonEmpty(_ variable: String) -> String? {
        guard let value = environment[variable], !value.isEmpty else { return nil }
        return value
    }

    private static func hostWithoutPort(_ hostHeader: String) -> String {
        if hostHeader.hasPrefix("["), let close = hostHeader.firstIndex(of: "]") {
            return String(hostHeader[...close])
        }
        return String(hostHeader.split(separator: ":", maxSplits: 1).first ?? "")
    }

    static func isAllowedPlainHTTPHost(_ host: String) -> Bool {
        let host = host.lowercased()
        if ["localhost", "[::1]", "169.254.170.2", "169.254.170.23", "[fd00:ec2::23]"].contains(host) { return true }
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets[0] == "127" && octets.allSatisfy { UInt8($0) != nil }
    }
}
