import Foundation

/// An object as ListObjectsV2 lists it.
public struct S3ObjectSummary: Sendable, Equatable {
    public var key: String
    public var size: Int
    public var eTag: String?
}

/// S3's REST protocol, for the few calls Ferry makes: reading an export
/// (GetObject streamed, ListObjectsV2) and, for tests and tools, writing one.
public struct S3Client: Sendable {
    public let endpoint: Endpoint
    public let retry: RetryPolicy
    private let credentials: any CredentialProvider
    private let transport: any HTTPTransport
    private let clock: @Sendable () -> Date

    public init(endpoint: Endpoint, credentials: any CredentialProvider, transport: any HTTPTransport,
                retry: RetryPolicy = RetryPolicy(), clock: @escaping @Sendable () -> Date = { Date() }) {
        self.endpoint = endpoint
        self.credentials = credentials
        self.transport = transport
        self.retry = retry
        self.clock = clock
    }

    /// Streams an object's bytes to `onChunk` as they arrive. A failure
    /// before the first byte is retried; once bytes have been delivered the
    /// error is thrown (the consumer cannot un-see them), and the caller
    /// restarts the object.
    public func getObject(bucket: String, key: String, onChunk: (UnsafeRawBufferPointer) throws -> Void)
        throws(AWSClientError) {
        let url = endpoint.s3URL(bucket: bucket, key: key)
        var delivered = false
        try retry.execute(operation: "GetObject") { () throws(AWSClientError) in
            let request = try signed(HTTPRequest(method: "GET", url: url))
            let response: HTTPResponse
            do {
                response = try transport.stream(request, operation: "GetObject") { chunk in
                    delivered = true
                    try onChunk(chunk)
                }
            } catch let error as HTTPError {
                if delivered {
                    throw AWSClientError.invalidResponse(operation: "GetObject", host: URLHost.of(url),
                                                         detail: "s3://\(bucket)/\(key): \(error.detail)")
                        .terminalized
                }
                throw .http(error)
            } catch {
                throw AWSClientError.invalidResponse(operation: "GetObject", host: URLHost.of(url), detail: "\(error)")
            }
            try check(response, operation: "GetObject", bucket: bucket, key: key)
        }
    }

    /// A whole (small) object: manifests and the like.
    public func getObjectBytes(bucket: String, key: String, maxBytes: Int = 64 << 20) throws(AWSClientError) -> [UInt8] {
        var out: [UInt8] = []
        struct TooLarge: Error {}
        try getObject(bucket: bucket, key: key) { chunk in
            if out.count + chunk.count > maxBytes { throw TooLarge() }
            out.append(contentsOf: chunk)
        }
        return out
    }

    /// Every object under `prefix` (ListObjectsV2, paged).
    public func listObjects(bucket: String, prefix: String) throws(AWSClientError) -> [S3ObjectSummary] {
        var out: [S3ObjectSummary] = []
        var token: String?
        repeat {
            var query = "list-type=2&prefix=\(Self.queryEncode(prefix))"
            if let token { query += "&continuation-token=\(Self.queryEncode(token))" }
            let url = endpoint.s3URL(bucket: bucket, key: "") + "?" + query
            let body = try retry.execute(operation: "ListObjectsV2") { () throws(AWSClientError) -> [UInt8] in
                let response = try send(HTTPRequest(method: "GET", url: url), operation: "ListObjectsV2")
                try check(response, operation: "ListObjectsV2", bucket: bucket, key: prefix)
                return response.body
            }
            let xml = XMLScanner(body)
            for contents in xml.elements("Contents") {
                guard let key = xml.first("Key", in: contents) else { continue }
                out.append(S3ObjectSummary(key: key, size: Int(xml.first("Size", in: contents) ?? "") ?? 0,
                                           eTag: xml.first("ETag", in: contents)))
            }
            token = xml.first("IsTruncated") == "true" ? xml.first("NextContinuationToken") : nil
        } while token != nil
        return out
    }

    public func putObject(bucket: String, key: String, body: [UInt8]) throws(AWSClientError) {
        let url = endpoint.s3URL(bucket: bucket, key: key)
        try retry.execute(operation: "PutObject") { () throws(AWSClientError) in
            let response = try send(HTTPRequest(method: "PUT", url: url, headers: [("Content-Type", "application/octet-stream")], body: body),
                                    operation: "PutObject")
            try check(response, operation: "PutObject", bucket: bucket, key: key)
        }
    }

    public func createBucket(_ bucket: String) throws(AWSClientError) {
        let url = endpoint.s3URL(bucket: bucket, key: "")
        var body: [UInt8] = []
        if endpoint.region != "us-east-1" {
            body = Array("""
                <CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">\
                <LocationConstraint>\(endpoint.region)</LocationConstraint></CreateBucketConfiguration>
                """.utf8)
        }
        try retry.execute(operation: "CreateBucket") { () throws(AWSClientError) in
            let response = try send(HTTPRequest(method: "PUT", url: url, headers: [("Content-Type", "application/xml")], body: body),
                                    operation: "CreateBucket")
            try check(response, operation: "CreateBucket", bucket: bucket, key: "")
        }
    }

    // MARK: -

    private func signed(_ request: HTTPRequest) throws(AWSClientError) -> HTTPRequest {
        let creds: Credentials
        do {
            guard let found = try credentials.credentials() else {
                throw CredentialError(.noCredentials, provider: credentials.name, message: "no credentials found for \(endpoint.url)")
            }
            creds = found
        } catch let error as CredentialError {
            throw .credentials(error)
        } catch {
            throw .credentials(CredentialError(.providerFailed, provider: credentials.name, message: "\(error)"))
        }
        return SigV4Signer(credentials: creds, region: endpoint.region, service: "s3").sign(request, signingDate: clock())
    }

    private func send(_ request: HTTPRequest, operation: String) throws(AWSClientError) -> HTTPResponse {
        let signedRequest = try signed(request)
        do {
            return try transport.send(signedRequest, operation: operation)
        } catch {
            throw .http(error)
        }
    }

    private func check(_ response: HTTPResponse, operation: String, bucket: String, key: String) throws(AWSClientError) {
        guard !(200..<300).contains(response.status) else { return }
        let xml = XMLScanner(response.body)
        let code = xml.first("Code") ?? "HTTP\(response.status)"
        var message = xml.first("Message") ?? ""
        let location = key.isEmpty ? "s3://\(bucket)" : "s3://\(bucket)/\(key)"
        message = message.isEmpty ? location : "\(message) (\(location))"
        throw .service(AWSServiceError(code: code, message: message, status: response.status, operation: operation,
                                       host: URLHost.of(endpoint.url), rawBody: response.body))
    }

    /// Query values: RFC 3986 unreserved characters stay, all else is %XX.
    static func queryEncode(_ value: String) -> String {
        var out = ""
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"),
                 UInt8(ascii: "."), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                out += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return out
    }
}
