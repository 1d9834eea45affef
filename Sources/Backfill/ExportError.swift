/// The one error type of the Backfill module: every failure to locate,
/// read or check an export.
///
/// It names the file (a storage location such as `s3://bucket/key` or a
/// local path) and, inside a data file, the line; the message says what is
/// wrong and, where the user can act, what to change. It never holds item
/// data: these errors go to logs, metrics and the status file.
public struct ExportError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A stable category, usable as a metric label and in tests.
    public enum Code: String, Sendable, Hashable {
        /// The export location is not `s3://bucket/prefix/AWSDynamoDB/<exportId>/` or a directory.
        case invalidLocation = "export.location_invalid"
        /// `manifest-summary.json` or `manifest-files.json` does not exist.
        case manifestMissing = "export.manifest_missing"
        /// A manifest exists but cannot be read as the documented format.
        case manifestInvalid = "export.manifest_invalid"
        /// The export is in a format Ferry does not read (ION).
        case unsupportedFormat = "export.format_unsupported"
        /// A data file listed in the manifest does not exist.
        case fileMissing = "export.file_missing"
        /// The storage failed (I/O error, S3 error other than a missing key).
        case storageFailed = "export.storage_failed"
        /// The gzip stream is corrupt (zlib `Z_DATA_ERROR`).
        case corruptData = "export.gzip_corrupt"
        /// The file ended inside a gzip member.
        case truncatedData = "export.gzip_truncated"
        /// A line is longer than the reader's limit.
        case lineTooLong = "export.line_too_long"
        /// A line is not an export record of valid DynamoDB JSON.
        case invalidLine = "export.line_invalid"
        /// The MD5 of the compressed file differs from the manifest's.
        case checksumMismatch = "export.checksum_mismatch"
        /// The file holds a different number of items than the manifest says.
        case itemCountMismatch = "export.item_count_mismatch"
        /// A resume position lies beyond the end of the file.
        case resumeBeyondEnd = "export.resume_beyond_end"
    }

    /// The category of the failure.
    public let code: Code
    /// What is wrong; never contains item data.
    public let message: String
    /// The file concerned, as a location a user can look up (`s3://…` or a path).
    public let file: String?
    /// The 1-based line of a data file concerned, when there is one.
    public let line: Int?

    /// Creates an error; `message` must not contain item data.
    public init(_ code: Code, _ message: String, file: String? = nil, line: Int? = nil) {
        self.code = code
        self.message = message
        self.file = file
        self.line = line
    }

    /// For example `s3://b/p/AWSDynamoDB/01/data/x.json.gz, line 17: invalid DynamoDB JSON at byte 9: …`.
    public var description: String {
        var location = file ?? ""
        if let line { location += location.isEmpty ? "line \(line)" : ", line \(line)" }
        return location.isEmpty ? message : "\(location): \(message)"
    }

    /// This error with the file (and line, when not yet known) filled in.
    func located(file: String, line: Int? = nil) -> ExportError {
        ExportError(code, message, file: self.file ?? file, line: self.line ?? line)
    }
}
