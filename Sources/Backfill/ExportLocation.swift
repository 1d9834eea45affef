import AWSClient

/// Where an export lives: the folder that holds its `manifest-summary.json`,
/// in S3 or in a local copy (`aws s3 sync`).
///
///     let location = try ExportLocation(parsing: "s3://bucket/exports/AWSDynamoDB/01700000000000-abcd1234/")
///     let storage = try location.storage(s3: s3Client)
///     let manifest = try ExportManifest.load(from: storage, location: location)
///
/// Keys inside an export are paths relative to that folder (the *export
/// root*): `manifest-summary.json`, `data/abc.json.gz`; an incremental
/// export keeps its data in the folder shared by all exports under the same
/// prefix, `AWSDynamoDB/data/`, which resolves to `../data/abc.json.gz`.
public struct ExportLocation: Sendable, Hashable, CustomStringConvertible {
    /// The kind of storage and where its export root is.
    public enum Place: Sendable, Hashable {
        /// An S3 bucket; `rootPrefix` ends in `AWSDynamoDB/<exportId>/`.
        case s3(bucket: String, rootPrefix: String)
        /// A local directory holding the export's files.
        case local(directory: String)
    }

    /// Where the export root is.
    public let place: Place
    /// The export's id (the folder name under `AWSDynamoDB/`), used to
    /// resolve the full S3 keys written in the manifests.
    public let exportId: String

    /// Parses `s3://bucket/prefix/AWSDynamoDB/<exportId>/` (the prefix may be
    /// empty, the trailing slash is optional) or a local directory path.
    ///
    /// - Throws: ``ExportError`` `.invalidLocation` for an S3 URL of another shape.
    public init(parsing text: String) throws {
        if text.hasPrefix("s3://") {
            let rest = text.dropFirst("s3://".count)
            let slash = rest.firstIndex(of: "/") ?? rest.endIndex
            let bucket = String(rest[..<slash])
            var path = rest[slash...].drop { $0 == "/" }
            while path.hasSuffix("/") { path = path.dropLast() }
            let parts = path.split(separator: "/", omittingEmptySubsequences: false)
            guard !bucket.isEmpty, parts.count >= 2, parts[parts.count - 2] == "AWSDynamoDB",
                  let id = parts.last, !id.isEmpty else {
                throw ExportError(.invalidLocation, """
                    expected s3://bucket/prefix/AWSDynamoDB/<exportId>/ (the folder that holds \
                    manifest-summary.json), got \(text)
                    """)
            }
            place = .s3(bucket: bucket, rootPrefix: path + "/")
            exportId = String(id)
        } else {
            guard !text.isEmpty else {
                throw ExportError(.invalidLocation, "the export location is empty: give s3://bucket/prefix/AWSDynamoDB/<exportId>/ or a directory")
            }
            var path = Substring(text)
            while path.count > 1, path.hasSuffix("/") { path = path.dropLast() }
            place = .local(directory: String(path))
            // A copy may sit in a folder of another name; the id then comes
            // from the manifest's exportArn (see ExportManifest.load).
            exportId = path.split(separator: "/").last.map(String.init) ?? ""
        }
    }

    /// A location from its parts.
    public init(place: Place, exportId: String) {
        self.place = place
        self.exportId = exportId
    }

    /// `s3://bucket/prefix/AWSDynamoDB/<id>/` or the directory path.
    public var description: String {
        switch place {
        case .s3(let bucket, let rootPrefix): "s3://\(bucket)/\(rootPrefix)"
        case .local(let directory): directory
        }
    }

    /// The storage that reads this export; `s3` is needed for an S3 location.
    ///
    /// - Throws: ``ExportError`` `.invalidLocation` for an S3 location without a client.
    public func storage(s3: S3Client?) throws -> any ExportStorage {
        switch place {
        case .local(let directory):
            return LocalExportStorage(root: directory)
        case .s3(let bucket, let rootPrefix):
            guard let s3 else {
                throw ExportError(.invalidLocation, "\(description) is in S3, but no S3 client is configured")
            }
            return S3ExportStorage(client: s3, bucket: bucket, rootPrefix: rootPrefix)
        }
    }

    /// The key, relative to the export root, of a file named in a manifest.
    ///
    /// Manifests hold full S3 keys (`prefix/AWSDynamoDB/<id>/data/abc.json.gz`);
    /// the bucket name or prefix may be missing or differ (a copy), so the
    /// part from `AWSDynamoDB/<id>/` onward is what counts; a key in the
    /// shared `AWSDynamoDB/data/` folder of incremental exports becomes
    /// `../data/…`; failing both, the `data/…` suffix; else the key itself.
    ///
    /// - Throws: ``ExportError`` `.manifestInvalid` for an empty key or one
    ///   that would climb out of the export with `..`.
    public static func relativeKey(of manifestKey: String, exportId: String) throws -> String {
        var key = Substring(manifestKey)
        if key.hasPrefix("s3://") { key = key.dropFirst("s3://".count) }
        let parts = key.split(separator: "/", omittingEmptySubsequences: false)
        var relative: [Substring]?
        // The last match wins: a prefix could itself contain such a folder.
        if !exportId.isEmpty {
            for i in stride(from: parts.count - 2, through: 0, by: -1)
            where parts[i] == "AWSDynamoDB" && parts[i + 1] == exportId[...] && i + 2 < parts.count {
                relative = Array(parts[(i + 2)...])
                break
            }
        }
        if relative == nil {
            for i in stride(from: parts.count - 2, through: 0, by: -1)
            where parts[i] == "AWSDynamoDB" && parts[i + 1] == "data" && i + 2 < parts.count {
                relative = [".."] + Array(parts[(i + 1)...])
                break
            }
        }
        if relative == nil, let i = parts.lastIndex(of: "data"), i + 1 < parts.count {
            relative = Array(parts[i...])
        }
        let result = relative ?? parts
        let climbs = result.dropFirst(result.first == ".." && result.dropFirst().first == "data" ? 1 : 0)
        guard !manifestKey.isEmpty, result.last.map({ !$0.isEmpty }) == true,
              !climbs.contains(".."), !climbs.contains(".") else {
            throw ExportError(.manifestInvalid, "the manifest names a file Ferry cannot place inside the export: \(manifestKey)")
        }
        return result.joined(separator: "/")
    }
}
