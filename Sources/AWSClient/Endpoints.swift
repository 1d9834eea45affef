/// The AWS services Ferry talks to.
public enum AWSService: String, Sendable, CaseIterable {
    case dynamodb
    case dynamodbStreams
    case s3

    /// The service name in the SigV4 credential scope. DynamoDB Streams
    /// signs as "dynamodb" although it has its own host.
    public var signingName: String {
        switch self {
        case .dynamodb, .dynamodbStreams: return "dynamodb"
        case .s3: return "s3"
        }
    }

    /// The service-specific endpoint override variable of the AWS SDKs.
    public var endpointVariable: String {
        switch self {
        case .dynamodb: return "AWS_ENDPOINT_URL_DYNAMODB"
        case .dynamodbStreams: return "AWS_ENDPOINT_URL_DYNAMODB_STREAMS"
        case .s3: return "AWS_ENDPOINT_URL_S3"
        }
    }

    var hostPrefix: String {
        switch self {
        case .dynamodb: return "dynamodb"
        case .dynamodbStreams: return "streams.dynamodb"
        case .s3: return "s3"
        }
    }
}

/// Where requests for one service go, and how S3 buckets are addressed.
public struct Endpoint: Sendable, Equatable, CustomStringConvertible {
    /// `scheme://host[:port]` with no trailing slash (a path prefix is kept).
    public var url: String
    public var region: String
    public var service: AWSService
    /// True for a user-supplied endpoint: S3 then uses path-style addressing
    /// (`endpoint/bucket/key`), since local stand-ins have no per-bucket DNS.
    public var isCustom: Bool

    public var description: String { url }

    public init(url: String, region: String, service: AWSService, isCustom: Bool) {
        self.url = url
        self.region = region
        self.service = service
        self.isCustom = isCustom
    }

    /// The URL of an S3 object or bucket (empty key = the bucket itself).
    public func s3URL(bucket: String, key: String) -> String {
        let path = key.isEmpty ? "" : "/" + S3Path.encode(key)
        if isCustom {
            return "\(url)/\(bucket)\(path)"
        }
        // Virtual-hosted style; buckets with dots break TLS host matching, so
        // those fall back to path style like the SDKs do.
        if bucket.contains(".") { return "\(url)/\(bucket)\(path)" }
        guard let schemeEnd = url.range(of: "://") else { return "\(url)/\(bucket)\(path)" }
        return url[..<schemeEnd.upperBound] + bucket + "." + url[schemeEnd.upperBound...] + path
    }
}

/// Failures to work out a region or an endpoint.
public struct EndpointError: Error, Sendable, CustomStringConvertible {
    public var description: String
}

/// Resolves the region and each service's endpoint the way the AWS SDKs do.
public struct EndpointResolver: Sendable {
    public var region: String
    /// Overrides from Ferry's configuration, which beat the environment.
    public var configured: [AWSService: String]
    public var environment: [String: String]

    /// - Parameters:
    ///   - region: from the configuration; otherwise `AWS_REGION`, then
    ///     `AWS_DEFAULT_REGION`, then `profileRegion` (the shared config file).
    public init(region: String?, endpoints: [AWSService: String] = [:],
                environment: [String: String], profileRegion: String? = nil) throws(EndpointError) {
        let candidates = [region, environment["AWS_REGION"], environment["AWS_DEFAULT_REGION"], profileRegion]
        guard let found = candidates.compactMap({ $0?.trimmed }).first(where: { !$0.isEmpty }) else {
            throw EndpointError(description: "no AWS region: set `region` in the configuration, or AWS_REGION in the environment")
        }
        guard Self.isValidRegion(found) else {
            throw EndpointError(description: "region '\(found)' is not a region name (expected something like us-east-1)")
        }
        self.region = found
        self.configured = endpoints
        self.environment = environment
    }

    /// The endpoint for `service`: a configured override, then the
    /// service's `AWS_ENDPOINT_URL_*` variable, then `AWS_ENDPOINT_URL`,
    /// then the standard AWS endpoint for the region.
    public func endpoint(for service: AWSService) throws(EndpointError) -> Endpoint {
        let overrides: [(String, String?)] = [
            ("configuration", configured[service]),
            (service.endpointVariable, environment[service.endpointVariable]),
            ("AWS_ENDPOINT_URL", environment["AWS_ENDPOINT_URL"]),
        ]
        for (origin, value) in overrides {
            guard let raw = value?.trimmed, !raw.isEmpty else { continue }
            return Endpoint(url: try Self.normalize(raw, origin: origin), region: region, service: service, isCustom: true)
        }
        let suffix = region.hasPrefix("cn-") ? "amazonaws.com.cn" : "amazonaws.com"
        return Endpoint(url: "https://\(service.hostPrefix).\(region).\(suffix)", region: region,
                        service: service, isCustom: false)
    }

    static func normalize(_ raw: String, origin: String) throws(EndpointError) -> String {
        let lower = raw.lowercased()
        guard lower.hasPrefix("http://") || lower.hasPrefix("https://") else {
            throw EndpointError(description: "endpoint '\(raw)' from \(origin) must start with http:// or https://")
        }
        let afterScheme = raw[raw.range(of: "://")!.upperBound...]
        guard let first = afterScheme.first, first != "/", first != ":" else {
            throw EndpointError(description: "endpoint '\(raw)' from \(origin) has no host")
        }
        var url = raw
        while url.hasSuffix("/") { url.removeLast() }
        return url
    }

    static func isValidRegion(_ region: String) -> Bool {
        !region.isEmpty && region.count <= 32 && region.allSatisfy { $0.isLetter && $0.isASCII || $0.isNumber || $0 == "-" }
            && region.first != "-" && region.last != "-"
    }
}

/// S3 object keys in URL paths: every byte percent-encoded except the
/// RFC 3986 unreserved set and "/". S3 signs the path exactly as sent.
enum S3Path {
    static func encode(_ key: String) -> String {
        var out = ""
        out.reserveCapacity(key.utf8.count)
        for byte in key.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"),
                 UInt8(ascii: "."), UInt8(ascii: "~"), UInt8(ascii: "/"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                out += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return out
    }
}

extension String {
    var trimmed: String {
        var s = Substring(self)
        while let c = s.first, c.isWhitespace { s.removeFirst() }
        while let c = s.last, c.isWhitespace { s.removeLast() }
        return String(s)
    }

    func leftPadded(to width: Int, with pad: Character = "0") -> String {
        count >= width ? self : String(repeating: pad, count: width - count) + self
    }
}
