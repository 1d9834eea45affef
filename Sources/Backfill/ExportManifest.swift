import DynamoModel
import Foundation

/// The manifests of a DynamoDB export to S3: what was exported, when, in
/// which format, and the data files with their item counts and checksums.
///
/// The formats, as the DynamoDB developer guide ("DynamoDB table export
/// output format", S3DataExport.Output) documents them:
///
/// - `manifest-summary.json`, one JSON object: `version` ("2020-06-30"),
///   `exportArn`, `startTime`, `endTime`, `tableArn`, `tableId`,
///   `exportTime`, `s3Bucket`, `s3Prefix`, `manifestFilesS3Key` (a full S3
///   key), `billedSizeBytes`, `itemCount`, `outputFormat` (`DYNAMODB_JSON`
///   or `ION`); incremental exports add `exportType`
///   (`INCREMENTAL_EXPORT`), `exportFromTime`, `exportToTime` and
///   `outputView`. Times are ISO 8601 with milliseconds
///   (`2020-11-04T07:28:34.028Z`). A summary without `exportType` is a full
///   export.
/// - `manifest-files.json`, JSON lines, one per data file:
///   `{"itemCount": 8, "md5Checksum": "sQMSpEILNgoQmarvDFonGQ==",
///   "etag": "af83…-1", "dataFileS3Key": "AWSDynamoDB/<id>/data/<name>.json.gz"}`.
///   `md5Checksum` is the base64 of the raw MD5 of the compressed file;
///   `etag` is S3's, a multipart ETag that is no plain MD5, so it is kept
///   but not checked.
/// - Full exports keep data files in `AWSDynamoDB/<id>/data/`; incremental
///   exports in the folder all exports under the prefix share,
///   `AWSDynamoDB/data/`. Empty partitions give empty data files.
public struct ExportManifest: Sendable {
    /// `exportType`.
    public enum ExportType: String, Sendable, Hashable {
        /// The whole table at `exportTime`: lines `{"Item": …}`.
        case full = "FULL_EXPORT"
        /// The changes between `exportFromTime` and `exportToTime`: lines
        /// with `Keys`, `NewImage`, `OldImage`, `Metadata`.
        case incremental = "INCREMENTAL_EXPORT"
    }

    /// `outputFormat`.
    public enum OutputFormat: String, Sendable, Hashable {
        /// JSON lines of DynamoDB JSON: the format Ferry reads.
        case dynamoDBJSON = "DYNAMODB_JSON"
        /// Amazon Ion text: not read by Ferry.
        case ion = "ION"
    }

    /// The export's id, from `exportArn` (else from the location).
    public var exportId: String
    /// `exportArn`.
    public var exportArn: String?
    /// `tableArn`.
    public var tableArn: String?
    /// `exportType`; `FULL_EXPORT` when absent.
    public var exportType: ExportType
    /// `outputFormat`; always `DYNAMODB_JSON` in a loaded manifest.
    public var outputFormat: OutputFormat
    /// `exportTime`: the moment a full export shows the table at.
    public var exportTime: Date?
    /// `startTime`, when the export job started.
    public var startTime: Date?
    /// `endTime`, when the export job ended.
    public var endTime: Date?
    /// `exportFromTime` of an incremental export (inclusive).
    public var exportFromTime: Date?
    /// `exportToTime` of an incremental export (exclusive).
    public var exportToTime: Date?
    /// `outputView` of an incremental export (`NEW_AND_OLD_IMAGES`, `NEW_IMAGE`).
    public var outputView: String?
    /// `itemCount` of the summary: the items over all data files.
    public var itemCount: Int
    /// `manifestFilesS3Key`, resolved relative to the export root.
    public var manifestFilesKey: String
    /// The data files, in the order of `manifest-files.json`.
    public var files: [DataFile]

    /// Reads `manifest-summary.json` and `manifest-files.json` from the
    /// export root of `storage`.
    ///
    /// - Throws: ``ExportError``: `.manifestMissing`, `.manifestInvalid`,
    ///   `.unsupportedFormat` (an ION export), `.storageFailed`.
    public static func load(from storage: any ExportStorage, location: ExportLocation) throws -> ExportManifest {
        try load(from: storage, exportId: location.exportId)
    }

    /// Reads the manifests; `exportId` resolves the keys in them when the
    /// summary has no `exportArn`.
    public static func load(from storage: any ExportStorage, exportId: String) throws -> ExportManifest {
        let summaryKey = "manifest-summary.json"
        var manifest = try parseSummary(try readManifest(storage, summaryKey), exportId: exportId,
                                        file: storage.location(of: summaryKey))
        let filesBytes = try readManifest(storage, manifest.manifestFilesKey)
        manifest.files = try parseFiles(filesBytes, exportId: manifest.exportId, type: manifest.exportType,
                                        file: storage.location(of: manifest.manifestFilesKey))
        let listed = manifest.files.reduce(0) { $0 + $1.itemCount }
        guard listed == manifest.itemCount else {
            throw ExportError(.manifestInvalid, """
                manifest-files.json lists \(listed) items but manifest-summary.json says \(manifest.itemCount): \
                the export is incomplete or its manifests come from different exports
                """, file: storage.location(of: manifest.manifestFilesKey))
        }
        return manifest
    }

    /// Reads a `manifest-summary.json`; `files` is left empty.
    public static func parseSummary(_ bytes: [UInt8], exportId: String, file: String) throws -> ExportManifest {
        let summary: JSONView
        do {
            summary = try JSONView(bytes)
        } catch {
            throw ExportError(.manifestInvalid, "not JSON: \(error)", file: file)
        }
        guard summary.kind == .object else { throw ExportError(.manifestInvalid, "not a JSON object", file: file) }
        let fields = ManifestFields(summary, file: file)

        let format = try fields.string("outputFormat") ?? OutputFormat.dynamoDBJSON.rawValue
        guard let outputFormat = OutputFormat(rawValue: format) else {
            throw ExportError(.unsupportedFormat, "outputFormat \(format) is not supported: export with --export-format DYNAMODB_JSON", file: file)
        }
        guard outputFormat == .dynamoDBJSON else {
            throw ExportError(.unsupportedFormat, "ION exports are not supported: export with --export-format DYNAMODB_JSON", file: file)
        }
        let typeName = try fields.string("exportType") ?? ExportType.full.rawValue
        guard let exportType = ExportType(rawValue: typeName) else {
            throw ExportError(.manifestInvalid, "exportType \(typeName) is neither FULL_EXPORT nor INCREMENTAL_EXPORT", file: file)
        }
        let exportArn = try fields.string("exportArn")
        // arn:aws:dynamodb:<region>:<account>:table/<table>/export/<id>
        var id = exportId
        if let arn = exportArn, let marker = arn.range(of: "/export/"), marker.upperBound < arn.endIndex {
            id = String(arn[marker.upperBound...])
        }
        guard let filesKey = try fields.string("manifestFilesS3Key") else {
            throw ExportError(.manifestInvalid, "manifestFilesS3Key is missing", file: file)
        }
        guard let itemCount = try fields.int("itemCount") else {
            throw ExportError(.manifestInvalid, "itemCount is missing", file: file)
        }
        return ExportManifest(
            exportId: id, exportArn: exportArn, tableArn: try fields.string("tableArn"),
            exportType: exportType, outputFormat: outputFormat,
            exportTime: try fields.date("exportTime"), startTime: try fields.date("startTime"),
            endTime: try fields.date("endTime"), exportFromTime: try fields.date("exportFromTime"),
            exportToTime: try fields.date("exportToTime"), outputView: try fields.string("outputView"),
            itemCount: itemCount,
            manifestFilesKey: try ExportLocation.relativeKey(of: filesKey, exportId: id),
            files: [])
    }

    /// Reads a `manifest-files.json` (JSON lines; blank lines are skipped).
    public static func parseFiles(_ bytes: [UInt8], exportId: String, type: ExportType,
                                  file: String) throws -> [DataFile] {
        var files: [DataFile] = []
        var lineNumber = 0
        for line in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            lineNumber += 1
            guard line.contains(where: { $0 != 0x20 && $0 != 0x09 && $0 != 0x0D }) else { continue }
            let entry: JSONView
            do {
                entry = try JSONView(bytes, range: line.startIndex..<line.endIndex)
            } catch {
                throw ExportError(.manifestInvalid, "not JSON: \(error)", file: file, line: lineNumber)
            }
            guard entry.kind == .object else {
                throw ExportError(.manifestInvalid, "not a JSON object", file: file, line: lineNumber)
            }
            let fields = ManifestFields(entry, file: file, line: lineNumber)
            guard let key = try fields.string("dataFileS3Key") else {
                throw ExportError(.manifestInvalid, "dataFileS3Key is missing", file: file, line: lineNumber)
            }
            guard let count = try fields.int("itemCount"), count >= 0 else {
                throw ExportError(.manifestInvalid, "itemCount is missing or negative", file: file, line: lineNumber)
            }
            let relative: String
            do {
                relative = try ExportLocation.relativeKey(of: key, exportId: exportId)
            } catch {
                throw (error as? ExportError)?.located(file: file, line: lineNumber) ?? error
            }
            files.append(DataFile(dataFileS3Key: key, key: relative, itemCount: count,
                                  md5Checksum: try fields.string("md5Checksum"), etag: try fields.string("etag"),
                                  exportType: type))
        }
        return files
    }
}

/// Typed access to manifest fields, with errors that name the field.
private struct ManifestFields {
    let object: JSONView
    let file: String
    var line: Int?

    init(_ object: JSONView, file: String, line: Int? = nil) {
        self.object = object
        self.file = file
        self.line = line
    }

    /// A string field; `nil` when absent or `null`.
    func string(_ name: String) throws -> String? {
        guard let value = object[name], !value.isNull else { return nil }
        guard let text = value.string else { throw invalid(name, "is not a string") }
        return text
    }

    /// An integer field; `nil` when absent or `null`.
    func int(_ name: String) throws -> Int? {
        guard let value = object[name], !value.isNull else { return nil }
        guard let number = value.intValue else { throw invalid(name, "is not a whole number") }
        return number
    }

    /// An ISO 8601 time (`2020-11-04T07:28:34.028Z`), or seconds since 1970.
    func date(_ name: String) throws -> Date? {
        guard let value = object[name], !value.isNull else { return nil }
        if let seconds = value.doubleValue { return Date(timeIntervalSince1970: seconds) }
        guard let text = value.string, let date = Self.parseISO8601(text) else {
            throw invalid(name, "is not an ISO 8601 time")
        }
        return date
    }

    static func parseISO8601(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: text)
    }

    private func invalid(_ name: String, _ what: String) -> ExportError {
        ExportError(.manifestInvalid, "\(name) \(what)", file: file, line: line)
    }
}

extension ExportManifest {
    /// Reads a manifest; a missing one is `.manifestMissing` with a hint.
    fileprivate static func readManifest(_ storage: any ExportStorage, _ key: String) throws -> [UInt8] {
        do {
            return try storage.readAll(key)
        } catch {
            guard let exportError = error as? ExportError, exportError.code == .fileMissing else { throw error }
            throw ExportError(.manifestMissing, """
                \(key) not found: give the export's own folder, \
                s3://bucket/prefix/AWSDynamoDB/<exportId>/ or its local copy
                """, file: exportError.file)
        }
    }
}
