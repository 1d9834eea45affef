import Foundation

/// The JSON the ECS container endpoint and EC2 instance metadata answer with:
/// `{"Code": "Success", "AccessKeyId": ..., "SecretAccessKey": ...,
/// "Token": ..., "Expiration": "2024-05-01T12:00:00Z"}` (ECS sends no `Code`).
/// Small and rare, so Foundation's decoder is fine here.
struct TemporaryCredentialsJSON: Decodable {
    var Code: String?
    var AccessKeyId: String?
    var SecretAccessKey: String?
    var Token: String?
    var Expiration: String?

    /// Parses a response body. Error messages never quote the body, which
    /// holds the secret.
    static func credentials(from body: [UInt8], provider: String, source: String) throws(CredentialError) -> Credentials {
        let json: TemporaryCredentialsJSON
        do {
            json = try JSONDecoder().decode(TemporaryCredentialsJSON.self, from: Data(body))
        } catch {
            throw CredentialError(.malformedResponse, provider: provider, message: "\(source) did not answer with a JSON object")
        }
        if let code = json.Code, code != "Success" {
            throw CredentialError(.endpointError, provider: provider, message: "\(source) answered Code \(code.prefix(64))")
        }
        guard let keyId = json.AccessKeyId, !keyId.isEmpty, let secret = json.SecretAccessKey, !secret.isEmpty else {
            throw CredentialError(.malformedResponse, provider: provider,
                                  message: "\(source) answered without AccessKeyId or SecretAccessKey")
        }
        var expiration: Date?
        if let text = json.Expiration {
            guard let date = parseISO8601(text) else {
                throw CredentialError(.malformedResponse, provider: provider,
                                      message: "\(source) answered an unreadable Expiration '\(text.prefix(40))'")
            }
            expiration = date
        }
        let token = json.Token.flatMap { $0.isEmpty ? nil : $0 }
        return Credentials(accessKeyId: keyId, secretAccessKey: secret, sessionToken: token, expiration: expiration)
    }

    /// `2024-05-01T12:00:00Z`, with or without fractional seconds, `Z` or an offset.
    static func parseISO8601(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: text)
    }
}
