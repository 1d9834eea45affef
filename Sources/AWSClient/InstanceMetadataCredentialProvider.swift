import Foundation
import Synchronization

/// Instance-profile credentials from EC2 instance metadata, IMDSv2 only:
///
/// 1. `PUT /latest/api/token` with `X-aws-ec2-metadata-token-ttl-seconds: 21600`
///    gives a session token, reused until ``tokenRefreshMargin`` before it expires;
/// 2. `GET /latest/meta-data/iam/security-credentials/` names the role (first line);
/// 3. `GET /latest/meta-data/iam/security-credentials/<role>` gives the keys.
///
/// Both GETs carry `X-aws-ec2-metadata-token`; a 401 (the token went stale)
/// gets a new token and one more try.
///
/// nil (not configured) when `AWS_EC2_METADATA_DISABLED=true`, when the
/// endpoint cannot be reached at all (not on EC2), or when the instance has no
/// role. The endpoint is the initializer's, else `AWS_EC2_METADATA_SERVICE_ENDPOINT`,
/// else `http://[fd00:ec2::254]` when `AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE=IPv6`,
/// else `http://169.254.169.254`. The transport should have short timeouts
/// (about 1 s to connect, 2 s in all): off EC2 every attempt waits for them.
public final class InstanceMetadataCredentialProvider: CredentialProvider {
    public let name = "imds"
    public static let defaultEndpoint = "http://169.254.169.254"
    public static let defaultIPv6Endpoint = "http://[fd00:ec2::254]"
    /// Six hours, the longest token IMDS hands out.
    public static let tokenTTLSeconds = 21_600
    /// A token is replaced this long before it expires.
    public let tokenRefreshMargin: TimeInterval = 60

    /// nil when disabled.
    public let endpoint: String?
    private let transport: any HTTPTransport
    private let clock: @Sendable () -> Date
    private let token = Mutex<(value: String, expires: Date)?>(nil)

    private enum Fetch { case notAvailable, response(HTTPResponse) }

    /// - Parameters:
    ///   - environment: the process environment unless a test injects one.
    ///   - endpoint: overrides the environment; tests point it at `http://127.0.0.1:PORT`.
    ///   - clock: decides when the session token is stale.
    public init(environment: [String: String] = ProcessInfo.processInfo.environment,
                transport: any HTTPTransport, endpoint: String? = nil,
                clock: @escaping @Sendable () -> Date = { Date() }) {
        self.transport = transport
        self.clock = clock
        if environment["AWS_EC2_METADATA_DISABLED"]?.lowercased() == "true" {
            self.endpoint = nil
            return
        }
        var chosen = endpoint ?? environment["AWS_EC2_METADATA_SERVICE_ENDPOINT"].flatMap { $0.isEmpty ? nil : $0 }
        if chosen == nil, environment["AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE"]?.lowercased() == "ipv6" {
            chosen = Self.defaultIPv6Endpoint
        }
        let base = chosen ?? Self.defaultEndpoint
        self.endpoint = base.hasSuffix("/") ? String(base.dropLast()) : base
    }

    public func credentials() throws -> Credentials? {
        guard let endpoint else { return nil }

        let roleList = "\(endpoint)/latest/meta-data/iam/security-credentials/"
        guard case .response(let listResponse) = try getWithToken(roleList, operation: "IMDSRoleName") else { return nil }
        if listResponse.status == 404 { return nil }
        guard listResponse.status == 200 else { throw statusError(listResponse.status, step: "role name") }
        guard let role = listResponse.bodyText.split(whereSeparator: \.isNewline).first?
            .trimmingCharacters(in: .whitespaces), !role.isEmpty else { return nil }

        let encodedRole = SigV4Signer.uriEncode(role, encodeSlash: true)
        guard case .response(let response) = try getWithToken(roleList + encodedRole, operation: "IMDSCredentials") else {
            return nil
        }
        guard response.status == 200 else { throw statusError(response.status, step: "credentials of role \(role)") }
        return try TemporaryCredentialsJSON.credentials(from: response.body, provider: name, source: "instance metadata")
    }

    /// A GET with the session token; on 401 once more with a fresh token.
    private func getWithToken(_ url: String, operation: String) throws(CredentialError) -> Fetch {
        for attempt in 0..<2 {
            guard let token = try sessionToken(forceNew: attempt > 0) else { return .notAvailable }
            let request = HTTPRequest(method: "GET", url: url, headers: [("X-aws-ec2-metadata-token", token)])
            let response: HTTPResponse
            do {
                response = try transport.send(request, operation: operation)
            } catch {
                throw CredentialError(.transport, provider: name, message: "instance metadata unreachable: \(error.detail)")
            }
            if response.status == 401 && attempt == 0 { continue }
            return .response(response)
        }
        throw statusError(401, step: "session token")
    }

    /// The cached token, or a new one; nil when IMDS cannot be reached.
    private func sessionToken(forceNew: Bool) throws(CredentialError) -> String? {
        let now = clock()
        if !forceNew, let cached = token.withLock({ $0 }), now < cached.expires.addingTimeInterval(-tokenRefreshMargin) {
            return cached.value
        }
        let request = HTTPRequest(method: "PUT", url: "\(endpoint ?? "")/latest/api/token",
                                  headers: [("X-aws-ec2-metadata-token-ttl-seconds", String(Self.tokenTTLSeconds))])
        let response: HTTPResponse
        do {
            response = try transport.send(request, operation: "IMDSToken")
        } catch {
            switch error.kind {
            case .connect, .timeout, .connectionReset:
                return nil
            case .tls, .invalidURL, .other, .withheld:
                throw CredentialError(.transport, provider: name, message: "instance metadata unreachable: \(error.detail)")
            }
        }
        guard response.status == 200 else { throw statusError(response.status, step: "session token") }
        let value = response.bodyText.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !value.isEmpty else {
            throw CredentialError(.malformedResponse, provider: name, message: "instance metadata answered an empty session token")
        }
        token.withLock { $0 = (value, now.addingTimeInterval(TimeInterval(Self.tokenTTLSeconds))) }
        return value
    }

    private func statusError(_ status: Int, step: String) -> CredentialError {
        var message = "instance metadata answered HTTP \(status) for the \(step)"
        if status == 403 { message += " (is IMDS disabled for this instance, or the PUT response hop limit too low for a container?)" }
        return CredentialError(.endpointError, provider: name, message: message)
    }
}
