import AWSClient

/// An export in S3, read with GetObject (data files streamed as the bytes
/// arrive).
public struct S3ExportStorage: ExportStorage {
    /// The client that signs and sends the requests.
    public let client: S3Client
    /// The bucket holding the export.
    public let bucket: String
    /// The key prefix of the export root, `prefix/AWSDynamoDB/<exportId>/`.
    public let rootPrefix: String

    /// Reads the export whose root is `s3://bucket/rootPrefix`.
    public init(client: S3Client, bucket: String, rootPrefix: String) {
        self.client = client
        self.bucket = bucket
        self.rootPrefix = rootPrefix
    }

    /// The full S3 key of `key`.
    public func objectKey(_ key: String) -> String {
        joinKey(root: rootPrefix, key)
    }

    public func location(of key: String) -> String {
        "s3://\(bucket)/\(objectKey(key))"
    }

    public func readAll(_ key: String, maxBytes: Int) throws -> [UInt8] {
        var out: [UInt8] = []
        try stream(key) { chunk in
            guard out.count + chunk.count <= maxBytes else {
                throw ExportError(.storageFailed, "the object is larger than \(maxBytes) bytes", file: location(of: key))
            }
            out.append(contentsOf: chunk)
        }
        return out
    }

    public func stream(_ key: String, onChunk: (UnsafeRawBufferPointer) throws -> Void) throws {
        // The client reports a callback's error as a transfer failure; keep
        // the original so a checksum error or the caller's own error (say,
        // a shutdown) comes out as itself.
        var callbackError: (any Error)?
        let result = Result { () throws(AWSClientError) in
            try client.getObject(bucket: bucket, key: objectKey(key)) { chunk in
                do {
                    try onChunk(chunk)
                } catch {
                    callbackError = error
                    throw error
                }
            }
        }
        if let callbackError { throw callbackError }
        guard case .failure(let error) = result else { return }
        let missing = error.serviceError?.code == "NoSuchKey"
        throw ExportError(missing ? .fileMissing : .storageFailed,
                          missing ? "no such object" : "\(error.code): \(error)", file: location(of: key))
    }
}
