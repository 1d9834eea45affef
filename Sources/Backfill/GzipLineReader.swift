import CZlib

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Inflates a gzip file as its bytes arrive and cuts the output into lines.
///
/// Memory stays bounded whatever the file size: one fixed output buffer
/// plus the part of a line that spans output chunks (at most
/// `maxLineBytes`). Multi-member gzip (members simply concatenated, as
/// `cat a.gz b.gz` or parallel compressors write) is read to the end.
///
///     let reader = try GzipLineReader(fileName: "s3://b/p/data/x.json.gz")
///     try storage.stream(key) { chunk in
///         try reader.feed(chunk) { lineNumber, line in … }
///     }
///     try reader.finish { lineNumber, line in … }   // the last line, end checks
///
/// Lines are handed out without their `\n`; the buffer is valid only during
/// the call. Line numbers count every line from 1, empty ones included.
/// A final line without a newline is a line. One owner at a time.
public final class GzipLineReader {
    /// The file, for error messages.
    public let fileName: String
    /// Longest line accepted; a longer one is `.lineTooLong`.
    public let maxLineBytes: Int
    /// Lines handed out so far.
    public private(set) var linesRead = 0
    /// Compressed bytes fed so far.
    public private(set) var compressedBytes = 0

    private let stream: UnsafeMutablePointer<z_stream>
    private let output: UnsafeMutableRawBufferPointer
    /// The start of a line whose end is not inflated yet.
    private var pending: [UInt8] = []
    /// The last inflate call ended a gzip member: more input starts another.
    private var memberEnded = false

    /// A reader for one file.
    ///
    /// - Parameters:
    ///   - maxLineBytes: longest line accepted. DynamoDB items are at most
    ///     400 KB, but base64 and `\u` escapes make their JSON longer; the
    ///     default of 16 MiB leaves ample room.
    ///   - outputChunkSize: bytes inflated per zlib call.
    public init(fileName: String, maxLineBytes: Int = 16 << 20, outputChunkSize: Int = 64 << 10) throws {
        self.fileName = fileName
        self.maxLineBytes = maxLineBytes
        stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        output = UnsafeMutableRawBufferPointer.allocate(byteCount: max(1, outputChunkSize), alignment: 16)
        let status = ferry_inflate_init_gzip(stream)
        guard status == Z_OK else {
            stream.deinitialize(count: 1)
            stream.deallocate()
            output.deallocate()
            throw ExportError(.storageFailed, "zlib cannot start inflating (status \(status))", file: fileName)
        }
    }

    deinit {
        inflateEnd(stream)
        stream.deinitialize(count: 1)
        stream.deallocate()
        output.deallocate()
    }

    /// Inflates `compressed` and calls `onLine` for every line it completes.
    ///
    /// - Throws: ``ExportError`` `.corruptData` or `.lineTooLong` naming
    ///   the file and the line reached; `onLine`'s errors unchanged.
    public func feed(_ compressed: UnsafeRawBufferPointer,
                     onLine: (_ lineNumber: Int, _ line: UnsafeRawBufferPointer) throws -> Void) throws {
        guard let base = compressed.baseAddress, !compressed.isEmpty else { return }
        compressedBytes += compressed.count
        // avail_in is 32 bits wide; feed a larger buffer in slices.
        var offset = 0
        while offset < compressed.count {
            let count = min(compressed.count - offset, Int(UInt32.max))
            stream.pointee.next_in = UnsafeMutablePointer(mutating: (base + offset).assumingMemoryBound(to: Bytef.self))
            stream.pointee.avail_in = uInt(count)
            try inflateAvailableInput(onLine)
            offset += count
        }
        stream.pointee.next_in = nil
    }

    /// Ends the file: checks that the last gzip member was complete, then
    /// hands out a last line that had no newline.
    ///
    /// - Throws: ``ExportError`` `.truncatedData` when the input stopped
    ///   inside a gzip member. An empty file (no bytes at all) is fine.
    public func finish(onLine: (_ lineNumber: Int, _ line: UnsafeRawBufferPointer) throws -> Void) throws {
        if compressedBytes > 0 && !memberEnded {
            throw ExportError(.truncatedData,
                              "the file ends inside a gzip stream after \(compressedBytes) bytes (truncated upload or copy?)",
                              file: fileName, line: linesRead + 1)
        }
        if !pending.isEmpty {
            try pending.withUnsafeBytes { try emit($0, onLine) }
            pending = []
        }
    }

    // MARK: -

    private func inflateAvailableInput(_ onLine: (Int, UnsafeRawBufferPointer) throws -> Void) throws {
        while true {
            if memberEnded {
                // Bytes after the end of a member start the next member.
                guard stream.pointee.avail_in > 0 else { return }
                inflateReset(stream)
                memberEnded = false
            }
            stream.pointee.next_out = output.baseAddress!.assumingMemoryBound(to: Bytef.self)
            stream.pointee.avail_out = uInt(output.count)
            let status = inflate(stream, Z_NO_FLUSH)
            let produced = output.count - Int(stream.pointee.avail_out)
            if produced > 0 {
                try split(UnsafeRawBufferPointer(start: output.baseAddress, count: produced), onLine)
            }
            switch status {
            case Z_STREAM_END:
                memberEnded = true
            case Z_OK:
                // A full output buffer may leave more to inflate from the
                // input already given; otherwise all of it is consumed.
                if stream.pointee.avail_out != 0 && stream.pointee.avail_in == 0 { return }
            case Z_BUF_ERROR:
                return  // no progress possible: needs more input
            case Z_MEM_ERROR:
                throw ExportError(.storageFailed, "zlib ran out of memory", file: fileName, line: linesRead + 1)
            default:
                // Z_DATA_ERROR, Z_NEED_DICT: zlib's message is a fixed text
                // ("invalid block type", "incorrect header check").
                let reason = stream.pointee.msg.map { String(cString: $0) } ?? "status \(status)"
                throw ExportError(.corruptData, "corrupt gzip data: \(reason)", file: fileName, line: linesRead + 1)
            }
        }
    }

    /// Cuts inflated bytes at newlines; a line spanning chunks is gathered
    /// in `pending`, any other is handed out straight from the buffer.
    private func split(_ bytes: UnsafeRawBufferPointer, _ onLine: (Int, UnsafeRawBufferPointer) throws -> Void) throws {
        let base = bytes.baseAddress!
        var start = 0
        while start < bytes.count {
            guard let newline = memchr(base + start, 0x0A, bytes.count - start) else {
                try appendPending(UnsafeRawBufferPointer(rebasing: bytes[start...]))
                return
            }
            let end = UnsafeRawPointer(newline) - base
            let piece = UnsafeRawBufferPointer(rebasing: bytes[start..<end])
            if pending.isEmpty {
                try emit(piece, onLine)
            } else {
                try appendPending(piece)
                try pending.withUnsafeBytes { try emit($0, onLine) }
                // Keep a modest buffer for the next long line, not a huge one.
                if pending.capacity > 1 << 20 { pending = [] } else { pending.removeAll(keepingCapacity: true) }
            }
            start = end + 1
        }
    }

    private func appendPending(_ bytes: UnsafeRawBufferPointer) throws {
        guard pending.count + bytes.count <= maxLineBytes else { throw lineTooLong() }
        pending.append(contentsOf: bytes)
    }

    private func emit(_ line: UnsafeRawBufferPointer, _ onLine: (Int, UnsafeRawBufferPointer) throws -> Void) throws {
        guard line.count <= maxLineBytes else { throw lineTooLong() }
        linesRead += 1
        try onLine(linesRead, line)
    }

    private func lineTooLong() -> ExportError {
        ExportError(.lineTooLong, "a line is longer than \(maxLineBytes) bytes: not a DynamoDB JSON export line",
                    file: fileName, line: linesRead + 1)
    }
}
