/// One data file of an export, as `manifest-files.json` lists it.
public struct DataFile: Sendable, Hashable {
    /// `dataFileS3Key` exactly as the manifest writes it (a full S3 key).
    public var dataFileS3Key: String
    /// The file's key relative to the export root (`data/abc.json.gz`,
    /// `../data/abc.json.gz`): what an ``ExportStorage`` reads.
    public var key: String
    /// `itemCount`: the number of lines (items or changes) in the file.
    public var itemCount: Int
    /// `md5Checksum`: base64 of the MD5 of the compressed file, if given.
    public var md5Checksum: String?
    /// `etag`, S3's; kept for reference, not checked (multipart ETags are
    /// not an MD5 of the object).
    public var etag: String?
    /// The export's type, which says how the file's lines are shaped.
    public var exportType: ExportManifest.ExportType

    /// A data file entry.
    public init(dataFileS3Key: String, key: String, itemCount: Int, md5Checksum: String? = nil,
                etag: String? = nil, exportType: ExportManifest.ExportType) {
        self.dataFileS3Key = dataFileS3Key
        self.key = key
        self.itemCount = itemCount
        self.md5Checksum = md5Checksum
        self.etag = etag
        self.exportType = exportType
    }
}
