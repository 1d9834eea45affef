import Backfill
import CZlib
import Foundation
import XCTest

/// Builds DynamoDB exports the way DynamoDB writes them: gzip JSON-lines
/// data files, `manifest-files.json` with each file's item count and
/// base64 MD5, and `manifest-summary.json`. Files are kept in memory by
/// their key from the bucket root, then written to a temporary directory or
/// uploaded to S3.
struct ExportFixture {
    let prefix: String
    let exportId: String
    var type: ExportManifest.ExportType
    var format = "DYNAMODB_JSON"
    /// Key from the bucket root → file bytes.
    private(set) var objects: [String: [UInt8]] = [:]
    private(set) var manifestLines: [String] = []
    private(set) var itemCount = 0
    /// How `dataFileS3Key` is written: the full key by default.
    var manifestKeyStyle: (String) -> String = { $0 }

    init(prefix: String = "exports/2024", exportId: String = "01700000000000-a1b2c3d4", type: ExportManifest.ExportType = .full) {
        self.prefix = prefix
        self.exportId = exportId
        self.type = type
    }

    /// `prefix/AWSDynamoDB/<id>/`.
    var rootPrefix: String { (prefix.isEmpty ? "" : prefix + "/") + "AWSDynamoDB/\(exportId)/" }

    /// Where data files go: the export's own folder for full exports, the
    /// shared `AWSDynamoDB/data/` folder for incremental ones.
    func dataKey(_ name: String) -> String {
        switch type {
        case .full: rootPrefix + "data/\(name).json.gz"
        case .incremental: (prefix.isEmpty ? "" : prefix + "/") + "AWSDynamoDB/data/\(name).json.gz"
        }
    }

    /// Adds a data file holding `lines` (each ends in "\n"), compressed as
    /// `members` concatenated gzip members. `itemCount` and `md5` override
    /// what goes into the manifest; `mangle` alters the stored bytes after
    /// the checksum was taken.
    @discardableResult
    mutating func addDataFile(_ name: String, lines: [String], members: Int = 1, itemCount: Int? = nil,
                              md5: String? = nil, withChecksum: Bool = true,
                              mangle: (inout [UInt8]) -> Void = { _ in }) -> String {
        let text = Array(lines.map { $0 + "\n" }.joined().utf8)
        var compressed: [UInt8] = []
        if lines.isEmpty && members == 0 {
            compressed = []  // a zero-byte file
        } else {
            let cut = max(1, members)
            let per = (text.count + cut - 1) / cut
            var start = 0
            for m in 0..<cut {
                // Cut inside a line on purpose: members need not end at a newline.
                let end = m == cut - 1 ? text.count : min(text.count, start + per)
                compressed += Gzip.compress(Array(text[start..<end]))
                start = end
            }
        }
        let key = dataKey(name)
        var entry = "{\"itemCount\":\(itemCount ?? lines.count),"
        if withChecksum {
            entry += "\"md5Checksum\":\"\(md5 ?? MD5Hasher.base64Digest(of: compressed))\","
        }
        entry += "\"etag\":\"0123456789abcdef0123456789abcdef-1\",\"dataFileS3Key\":\"\(manifestKeyStyle(key))\"}"
        manifestLines.append(entry)
        self.itemCount += itemCount ?? lines.count
        mangle(&compressed)
        objects[key] = compressed
        return key
    }

    /// Writes both manifests (call after the data files).
    mutating func finish(summaryItemCount: Int? = nil, extraSummary: String = "") {
        objects[rootPrefix + "manifest-files.json"] = Array(manifestLines.map { $0 + "\n" }.joined().utf8)
        var summary = """
            {"version":"2020-06-30",\
            "exportArn":"arn:aws:dynamodb:us-east-1:123456789012:table/Orders/export/\(exportId)",\
            "startTime":"2024-03-01T10:00:00.123Z","endTime":"2024-03-01T10:05:00.456Z",\
            "tableArn":"arn:aws:dynamodb:us-east-1:123456789012:table/Orders",\
            "tableId":"12345a12-abcd-123a-ab12-1234abc12345","exportTime":"2024-03-01T09:59:59.789Z",\
            "s3Bucket":"ferry-exports","s3Prefix":"\(prefix)","s3SseAlgorithm":"AES256","s3SseKmsKeyId":null,\
            "manifestFilesS3Key":"\(rootPrefix)manifest-files.json","billedSizeBytes":1234,\
            "itemCount":\(summaryItemCount ?? itemCount),"outputFormat":"\(format)"
            """
        if type == .incremental {
            summary += """
                ,"exportType":"INCREMENTAL_EXPORT","exportFromTime":"2024-03-01T08:00:00.000Z",\
                "exportToTime":"2024-03-01T09:00:00.000Z","outputView":"NEW_AND_OLD_IMAGES"
                """
        }
        summary += extraSummary + "}"
        objects[rootPrefix + "manifest-summary.json"] = Array(summary.utf8)
    }

    /// Writes every file under a new temporary directory; returns the
    /// export root (`<tmp>/<prefix>/AWSDynamoDB/<id>`).
    func writeToTemporaryDirectory() throws -> String {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-export-\(UUID().uuidString)")
        for (key, bytes) in objects {
            let url = base.appendingPathComponent(key)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(bytes).write(to: url)
        }
        return base.appendingPathComponent(rootPrefix).path
    }

    // MARK: - Items

    /// An item with every attribute type (S N B BOOL NULL M L SS NS BS),
    /// escapes and non-ASCII text, as one line of DynamoDB JSON.
    static func item(_ i: Int) -> String {
        """
        {"pk":{"S":"user#\(i)"},"sk":{"N":"\(i)"},"name":{"S":"Zoë \\"\(i)\\" \\u00e9\\n日本"},\
        "score":{"N":"-12345678901234567890.123456789\(i % 10)"},"blob":{"B":"\(Base64Text.of(i))"},\
        "active":{"BOOL":\(i % 2 == 0)},"nothing":{"NULL":true},\
        "address":{"M":{"city":{"S":"Oslo"},"zip":{"N":"0150"},"tags":{"L":[{"S":"a"},{"N":"1"}]}}},\
        "history":{"L":[{"S":"x"},{"BOOL":false},{"NULL":true},{"M":{}}]},\
        "colors":{"SS":["red","green"]},"sizes":{"NS":["1","2.5","\(i)"]},"codes":{"BS":["AAE=","/w=="]}}
        """
    }

    static func fullLine(_ i: Int) -> String { "{\"Item\":\(item(i))}" }

    /// An incremental line: a put with old and new image, or a delete.
    static func incrementalLine(_ i: Int, delete: Bool) -> String {
        let keys = "{\"pk\":{\"S\":\"user#\(i)\"},\"sk\":{\"N\":\"\(i)\"}}"
        let metadata = "{\"WriteTimestampMicros\":{\"N\":\"\(1_709_280_000_000_000 + i)\"}}"
        if delete {
            return "{\"Metadata\":\(metadata),\"Keys\":\(keys),\"OldImage\":\(item(i))}"
        }
        return "{\"Metadata\":\(metadata),\"Keys\":\(keys),\"OldImage\":\(item(i + 1)),\"NewImage\":\(item(i))}"
    }
}

enum Base64Text {
    static func of(_ i: Int) -> String {
        Data([UInt8(truncatingIfNeeded: i), UInt8(truncatingIfNeeded: i >> 8), 0xff]).base64EncodedString()
    }
}

/// gzip through zlib's deflate, as the tests need it.
enum Gzip {
    static func compress(_ input: [UInt8], level: Int32 = 6) -> [UInt8] {
        // zlib keeps a pointer back to the stream: it must not move.
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        precondition(ferry_deflate_init_gzip(stream, level) == Z_OK)
        defer {
            deflateEnd(stream)
            stream.deallocate()
        }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        var input = input
        input.withUnsafeMutableBufferPointer { inBuf in
            stream.pointee.next_in = inBuf.baseAddress
            stream.pointee.avail_in = uInt(inBuf.count)
            var status: Int32 = Z_OK
            while status != Z_STREAM_END {
                chunk.withUnsafeMutableBufferPointer { outBuf in
                    stream.pointee.next_out = outBuf.baseAddress
                    stream.pointee.avail_out = uInt(outBuf.count)
                    status = deflate(stream, Z_FINISH)
                    precondition(status == Z_OK || status == Z_STREAM_END || status == Z_BUF_ERROR)
                    out.append(contentsOf: outBuf[0..<(outBuf.count - Int(stream.pointee.avail_out))])
                }
            }
        }
        return out
    }
}
