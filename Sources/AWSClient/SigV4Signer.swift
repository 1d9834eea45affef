import Foundation

/// AWS Signature Version 4 for requests signed in the `Authorization` header.
///
/// A value type: build one per (credentials, region, service), or per
/// request when credentials rotate; the expensive part, the signing key, is
/// cached across signers in a ``SigningKeyCache``. The date is always a
/// parameter, so tests are exact.
///
/// The steps are separate functions, each tested on its own:
/// ``canonicalRequest(method:path:query:headers:payloadHash:)`` →
/// ``stringToSign(canonicalRequest:amzDate:)`` → ``signingKey(day:)`` →
/// ``signature(stringToSign:signingKey:)`` →
/// ``authorizationHeader(day:signedHeaders:signature:)``.
/// ``sign(_:signingDate:payloadHash:)`` runs them all and returns the request
/// with its signing headers.
public struct SigV4Signer: Sendable {
    /// How a service wants its requests canonicalized. S3 differs from all others.
    public struct Options: Sendable, Equatable {
        /// Remove `.`/`..` segments and collapse `//` in the path before signing.
        public var normalizePath: Bool
        /// URI-encode the (already encoded) wire path once more.
        public var doubleURIEncode: Bool
        /// Send and sign `x-amz-content-sha256` with the payload hash.
        public var signBody: Bool
        /// Include `X-Amz-Security-Token` in the signature. When false the
        /// token header is still sent, but added after signing.
        public var signSessionToken: Bool

        public init(normalizePath: Bool = true, doubleURIEncode: Bool = true, signBody: Bool = false, signSessionToken: Bool = true) {
            self.normalizePath = normalizePath
            self.doubleURIEncode = doubleURIEncode
            self.signBody = signBody
            self.signSessionToken = signSessionToken
        }

        /// The options the service expects: for `s3` no normalization, single
        /// encoding and a signed `x-amz-content-sha256`; for every other
        /// service normalization and double encoding.
        public static func forService(_ service: String) -> Options {
            if service == "s3" {
                return Options(normalizePath: false, doubleURIEncode: false, signBody: true)
            }
            return Options()
        }
    }

    /// Every intermediate and final value of one signature.
    public struct SigningResult: Sendable {
        public var canonicalRequest: String
        public var stringToSign: String
        /// 64 lower-case hex characters.
        public var signature: String
        /// The value of the `Authorization` header.
        public var authorization: String
        /// `name;name;...`, as in the `Authorization` header.
        public var signedHeaders: String
        /// The headers to add to the request, in the order they are added:
        /// `Host` (only when the request had none), `X-Amz-Security-Token`,
        /// `X-Amz-Date`, `x-amz-content-sha256`, `Authorization`.
        public var headers: [(name: String, value: String)]
    }

    public static let algorithm = "AWS4-HMAC-SHA256"

    /// Headers the signer sets itself; any copy already on the request
    /// (a retry of a signed request) is dropped before signing.
    static let ownedHeaders: Set<String> = ["authorization", "x-amz-date", "x-amz-security-token", "x-amz-content-sha256"]

    /// Headers left out of the signature because something between us and
    /// AWS may add or rewrite them (proxies, tracing, curl's `Expect`).
    static let unsignedHeaders: Set<String> = ["user-agent", "x-amzn-trace-id", "expect", "connection", "upgrade"]

    public var credentials: Credentials
    /// The signing region, e.g. `us-east-1` (Alternator accepts any).
    public var region: String
    /// The signing name: `dynamodb` (also for DynamoDB Streams), `s3`.
    public var service: String
    public var options: Options
    /// nil derives the signing key on every request.
    public var keyCache: SigningKeyCache?

    /// - Parameters:
    ///   - options: defaults to ``Options/forService(_:)``.
    ///   - keyCache: where signing keys are remembered; nil derives every time.
    public init(credentials: Credentials, region: String, service: String, options: Options? = nil,
                keyCache: SigningKeyCache? = .shared) {
        self.credentials = credentials
        self.region = region
        self.service = service
        self.options = options ?? .forService(service)
        self.keyCache = keyCache
    }

    // MARK: - The whole signature

    /// `request` with its signing headers added (and stale ones removed).
    ///
    /// - Parameters:
    ///   - signingDate: the time the signature is made; AWS rejects it when
    ///     it is more than 5 minutes away from its own clock.
    ///   - payloadHash: the hex SHA-256 of the body, or a marker such as
    ///     `UNSIGNED-PAYLOAD`; nil hashes `request.body`.
    public func sign(_ request: HTTPRequest, signingDate: Date, payloadHash: String? = nil) -> HTTPRequest {
        let result = signature(for: request, signingDate: signingDate, payloadHash: payloadHash)
        var signed = request
        signed.headers.removeAll { Self.ownedHeaders.contains($0.name.lowercased()) }
        for header in result.headers {
            if header.name == "Host" { signed.headers.insert(header, at: 0) } else { signed.headers.append(header) }
        }
        return signed
    }

    /// Computes the signature of `request` without changing it.
    public func signature(for request: HTTPRequest, signingDate: Date, payloadHash: String? = nil) -> SigningResult {
        let amzDate = Self.amzDate(signingDate)
        let day = String(amzDate.prefix(8))
        let url = SigV4URLParts(request.url)
        let hash = payloadHash ?? Hashing.sha256Hex(request.body)

        var added: [(name: String, value: String)] = []
        var signedInput = request.headers.filter {
            let name = $0.name.lowercased()
            return !Self.ownedHeaders.contains(name) && !Self.unsignedHeaders.contains(name)
        }
        if request.header("host") == nil, !url.hostHeader.isEmpty {
            added.append(("Host", url.hostHeader))
            signedInput.append(("Host", url.hostHeader))
        }
        if let token = credentials.sessionToken {
            added.append(("X-Amz-Security-Token", token))
            if options.signSessionToken { signedInput.append(("X-Amz-Security-Token", token)) }
        }
        added.append(("X-Amz-Date", amzDate))
        signedInput.append(("X-Amz-Date", amzDate))
        if options.signBody {
            added.append(("x-amz-content-sha256", hash))
            signedInput.append(("x-amz-content-sha256", hash))
        }

        let canonical = canonicalRequest(method: request.method, path: url.path, query: url.query,
                                         headers: signedInput, payloadHash: hash)
        let toSign = stringToSign(canonicalRequest: canonical.request, amzDate: amzDate)
        let signature = Self.signature(stringToSign: toSign, signingKey: signingKey(day: day))
        let authorization = authorizationHeader(day: day, signedHeaders: canonical.signedHeaders, signature: signature)
        added.append(("Authorization", authorization))

        return SigningResult(canonicalRequest: canonical.request, stringToSign: toSign, signature: signature,
                         authorization: authorization, signedHeaders: canonical.signedHeaders, headers: added)
    }

    // MARK: - The steps

    /// The canonical request: method, canonical URI, canonical query,
    /// canonical headers, signed headers and payload hash, one per line.
    ///
    /// - Parameters:
    ///   - path: the path as in the URL (see ``canonicalURI(_:)``).
    ///   - query: the raw query string, without `?`.
    ///   - headers: exactly the headers to sign, including `host` and `x-amz-date`.
    public func canonicalRequest(method: String, path: String, query: String,
                                 headers: [(name: String, value: String)],
                                 payloadHash: String) -> (request: String, signedHeaders: String) {
        let canonicalHeaders = Self.canonicalHeaders(headers)
        let request = [
            method.uppercased(),
            canonicalURI(path),
            Self.canonicalQueryString(query),
            canonicalHeaders.canonical,
            canonicalHeaders.signed,
            payloadHash,
        ].joined(separator: "\n")
        return (request, canonicalHeaders.signed)
    }

    /// `day/region/service/aws4_request`; `day` is `yyyyMMdd`.
    public func credentialScope(day: String) -> String {
        "\(day)/\(region)/\(service)/aws4_request"
    }

    /// The algorithm, the request time, the credential scope and the hex
    /// SHA-256 of the canonical request, one per line.
    public func stringToSign(canonicalRequest: String, amzDate: String) -> String {
        [
            Self.algorithm,
            amzDate,
            credentialScope(day: String(amzDate.prefix(8))),
            Hashing.sha256Hex(canonicalRequest),
        ].joined(separator: "\n")
    }

    /// HMAC chain `"AWS4" + secret` → day → region → service → `aws4_request`.
    public func signingKey(day: String) -> [UInt8] {
        let derive = { [credentials, region, service] in
            Self.deriveSigningKey(secret: credentials.secretAccessKey, day: day, region: region, service: service)
        }
        guard let keyCache else { return derive() }
        return keyCache.key(secret: credentials.secretAccessKey, day: day, region: region, service: service, derive: derive)
    }

    static func deriveSigningKey(secret: String, day: String, region: String, service: String) -> [UInt8] {
        let dateKey = Hashing.hmacSHA256(key: Array("AWS4\(secret)".utf8), data: day)
        let regionKey = Hashing.hmacSHA256(key: dateKey, data: region)
        let serviceKey = Hashing.hmacSHA256(key: regionKey, data: service)
        return Hashing.hmacSHA256(key: serviceKey, data: "aws4_request")
    }

    /// Lower-case hex HMAC-SHA256 of the string to sign under the signing key.
    public static func signature(stringToSign: String, signingKey: [UInt8]) -> String {
        Hashing.hex(Hashing.hmacSHA256(key: signingKey, data: stringToSign))
    }

    /// `AWS4-HMAC-SHA256 Credential=<key id>/<scope>, SignedHeaders=<list>, Signature=<hex>`.
    public func authorizationHeader(day: String, signedHeaders: String, signature: String) -> String {
        "\(Self.algorithm) Credential=\(credentials.accessKeyId)/\(credentialScope(day: day)), SignedHeaders=\(signedHeaders), Signature=\(signature)"
    }

    /// `yyyyMMdd'T'HHmmss'Z'` in UTC, the format of `X-Amz-Date`.
    public static func amzDate(_ date: Date) -> String {
        let seconds = Int64(date.timeIntervalSince1970.rounded(.down))
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = Int(seconds - days * 86_400)
        let (year, month, day) = civilDate(daysSinceEpoch: days)
        func pad(_ value: Int, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return pad(Int(year), 4) + pad(month, 2) + pad(day, 2) + "T"
            + pad(secondOfDay / 3600, 2) + pad(secondOfDay / 60 % 60, 2) + pad(secondOfDay % 60, 2) + "Z"
    }

    /// Proleptic Gregorian (year, month, day) of a day count since 1970-01-01
    /// (H. Hinnant's `civil_from_days`), so formatting needs no calendar object.
    private static func civilDate(daysSinceEpoch: Int64) -> (Int64, Int, Int) {
        let z = daysSinceEpoch + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = Int(dayOfYear - (153 * monthIndex + 2) / 5 + 1)
        let month = Int(monthIndex < 10 ? monthIndex + 3 : monthIndex - 9)
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (year, month, day)
    }
}
