#if canImport(Glibc)
import Glibc
#endif
import CZlib
import Foundation

/// Writes a DynamoDB export in the layout DynamoDB writes to S3 (to a local
/// directory): gzip JSON-lines data files, `manifest-files.json` with each
/// file's item count and base64 MD5, and `manifest-summary.json`. Streams:
/// one compressor and one open file at a time, whatever the export's size.
/// Used by the quick start, the benchmarks and the tests.
public final class ExportWriter {
    public let root: String
    public let exportId: String
    public let type: ExportManifest.ExportType
    public let itemsPerFile: Int
    public let exportTime: Date
    private var manifestLines: [String] = []
    private var total = 0
    private var current: GzipFileWriter?
    private var currentKey = ""
    private var currentItems = 0
    private var fileIndex = 0

    /// - Parameters:
    ///   - directory: the bucket-and-prefix directory; the export goes to
    ///     `directory/AWSDynamoDB/<exportId>/` (incremental data files to
    ///     the shared `directory/AWSDynamoDB/data/`, as DynamoDB does).
    public init(directory: String, exportId: String, type: ExportManifest.ExportType = .full,
                exportTime: Date = Date(), itemsPerFile: Int = 50_000) throws {
        self.root = directory + "/AWSDynamoDB/\(exportId)"
        self.exportId = exportId
        self.type = type
        self.exportTime = exportTime
        self.itemsPerFile = max(1, itemsPerFile)
        try FileManager.default.createDirectory(atPath: root + "/data", withIntermediateDirectories: true)
        if type == .incremental {
            try FileManager.default.createDirectory(atPath: directory + "/AWSDynamoDB/data", withIntermediateDirectories: true)
        }
    }

    /// A FULL export line for an item given as DynamoDB JSON.
    public func add(item: [UInt8]) throws {
        var line = Array(#"{"Item":"#.utf8)
        line += item
        line.append(UInt8(ascii: "}"))
        try add(line: line)
    }

    /// An INCREMENTAL export line: a put (new image) or, without one, a delete.
    public func addChange(keys: [UInt8], newImage: [UInt8]?, oldImage: [UInt8]?, writeTimestampMicros: Int64) throws {
        var line = Array(#"{"Metadata":{"WriteTimestampMicros":{"N":""#.utf8) + Array(String(writeTimestampMicros).utf8)
        line += Array(#""}},"Keys":"#.utf8) + keys
        if let newImage { line += Array(#","NewImage":"#.utf8) + newImage }
        if let oldImage { line += Array(#","OldImage":"#.utf8) + oldImage }
        line.append(UInt8(ascii: "}"))
        try add(line: line)
    }

    private func add(line: [UInt8]) throws {
        if current == nil || currentItems >= itemsPerFile { try rollFile() }
        try current!.write(line + [UInt8(ascii: "\n")])
        currentItems += 1
        total += 1
    }

    private func rollFile() throws {
        try closeFile()
        fileIndex += 1
        let name = String(format: "%08d-%@.json.gz", fileIndex, String(exportId.suffix(8)))
        currentKey = type == .full ? "AWSDynamoDB/\(exportId)/data/\(name)" : "AWSDynamoDB/data/\(name)"
        let path = (root as NSString).deletingLastPathComponent + "/" + currentKey.dropFirst("AWSDynamoDB/".count)
        current = try GzipFileWriter(path: path)
        currentItems = 0
    }

    private func closeFile() throws {
        guard let file = current else { return }
        let md5 = try file.finish()
        manifestLines.append(#"{"itemCount":\#(currentItems),"md5Checksum":"\#(md5)","etag":"\#(md5.prefix(8))","dataFileS3Key":"\#(currentKey)"}"#)
        current = nil
    }

    /// Closes the last data file and writes both manifests; returns the
    /// export's directory (what `ferry backfill --export` takes).
    @discardableResult
    public func finish() throws -> String {
        try closeFile()
        let files = manifestLines.map { $0 + "\n" }.joined()
        try Data(files.utf8).write(to: URL(fileURLWithPath: root + "/manifest-files.json"))
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let time = formatter.string(from: exportTime)
        var summary = #"{"version":"2020-06-30","exportArn":"arn:aws:dynamodb:us-east-1:000000000000:table/ferry/export/\#(exportId)","#
            + #""startTime":"\#(time)","endTime":"\#(time)","exportTime":"\#(time)","#
            + #""manifestFilesS3Key":"AWSDynamoDB/\#(exportId)/manifest-files.json","itemCount":\#(total),"outputFormat":"DYNAMODB_JSON""#
        if type == .incremental {
            summary += #","exportType":"INCREMENTAL_EXPORT","exportFromTime":"\#(time)","exportToTime":"\#(time)","outputView":"NEW_AND_OLD_IMAGES""#
        } else {
            summary += #","exportType":"FULL_EXPORT""#
        }
        summary += "}"
        try Data(summary.utf8).write(to: URL(fileURLWithPath: root + "/manifest-summary.json"))
        return root
    }
}

/// One gzip file written through zlib's deflate, with the MD5 of what lands on disk.
final class GzipFileWriter {
    private let stream: UnsafeMutablePointer<z_stream>
    private let handle: FileHandle
    private let md5 = MD5Hasher()
    private var out = [UInt8](repeating: 0, count: 256 << 10)
    let path: String

    init(path: String) throws {
        self.path = path
        guard FileManager.default.createFile(atPath: path, contents: nil) else {
            throw ExportError(.storageFailed, "cannot create \(path)", file: path)
        }
        handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        guard ferry_deflate_init_gzip(stream, 6) == Z_OK else {
            throw ExportError(.storageFailed, "zlib could not start a gzip stream", file: path)
        }
    }

    deinit {
        deflateEnd(stream)
        stream.deallocate()
    }

    func write(_ bytes: [UInt8]) throws { try pump(bytes, flush: Z_NO_FLUSH) }

    /// Ends the gzip stream; returns the base64 MD5 of the file.
    func finish() throws -> String {
        try pump([], flush: Z_FINISH)
        try handle.close()
        return Data(md5.final()).base64EncodedString()
    }

    private func pump(_ input: [UInt8], flush: Int32) throws {
        var input = input
        try input.withUnsafeMutableBufferPointer { inBuf in
            stream.pointee.next_in = inBuf.baseAddress
            stream.pointee.avail_in = uInt(inBuf.count)
            while true {
                let (status, produced) = out.withUnsafeMutableBufferPointer { outBuf -> (Int32, Int) in
                    stream.pointee.next_out = outBuf.baseAddress
                    stream.pointee.avail_out = uInt(outBuf.count)
                    let status = deflate(stream, flush)
                    return (status, outBuf.count - Int(stream.pointee.avail_out))
                }
                if produced > 0 {
                    let chunk = Array(out[0..<produced])
                    md5.update(chunk)
                    try handle.write(contentsOf: chunk)
                }
                if status == Z_STREAM_END { return }
                guard status == Z_OK || status == Z_BUF_ERROR else {
                    throw ExportError(.storageFailed, "zlib deflate failed (\(status))", file: path)
                }
                if flush == Z_NO_FLUSH && stream.pointee.avail_in == 0 && stream.pointee.avail_out > 0 { return }
            }
        }
    }
}
