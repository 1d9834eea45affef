import DynamoModel

/// Streams one data file of a DYNAMODB_JSON export and hands out its
/// records, checking the file against its manifest entry.
///
///     let manifest = try ExportManifest.load(from: storage, location: location)
///     let reader = ExportFileReader()
///     for file in manifest.files {
///         let skip = checkpoint.linesDone(file.key)            // 0 on a first run
///         try reader.read(file: file, storage: storage, keySchema: schema, skipLines: skip) {
///             lineNumber, record, key in
///             lanes[key.lane(count: lanes.count)].submit(record, line: lineNumber)
///         }
///         checkpoint.markDone(file.key)                        // only after read returned
///     }
///
/// **Contract: records are handed out as they are read, before the file is
/// verified.** The MD5 of the compressed bytes and the item count are known
/// only at the end of the file, so `read` may throw `.checksumMismatch`,
/// `.itemCountMismatch` or `.truncatedData` after every record was handed
/// out. The caller must not mark the file done before `read` returns
/// normally. Records already applied are harmless (a put of the full item
/// and a delete by key are idempotent): after a crash or a storage failure
/// a later run resumes with `skipLines` set to the last line whose record
/// the target acknowledged; a checksum or count mismatch needs a sound copy
/// of the file, or a new export.
public struct ExportFileReader: Sendable {
    /// Longest line accepted (see ``GzipLineReader/init(fileName:maxLineBytes:outputChunkSize:)``).
    public var maxLineBytes: Int
    /// How often a file is read again from its start after a storage
    /// failure (a connection reset an hour into a large object). S3Client
    /// retries only failures before the first byte; after that the gzip
    /// stream cannot be picked up mid-way, so the file is read again,
    /// checksummed and counted from the start, and records are handed out
    /// from the first line not handed out before.
    public var restartsAfterStorageFailure: Int

    /// A reader with the given line limit and restarts.
    public init(maxLineBytes: Int = 16 << 20, restartsAfterStorageFailure: Int = 2) {
        self.maxLineBytes = maxLineBytes
        self.restartsAfterStorageFailure = restartsAfterStorageFailure
    }

    /// What one read saw.
    public struct Summary: Sendable, Hashable {
        /// Item lines in the file (blank lines not counted), skipped ones included.
        public var items: Int
        /// Item lines handed to `onRecord`.
        public var recordsHandedOut: Int
        /// Lines in the file, blank ones included.
        public var lines: Int
        /// Size of the compressed file.
        public var compressedBytes: Int
        /// Base64 MD5 of the compressed file.
        public var md5Checksum: String
    }

    /// Reads `file`, handing each record after line `skipLines` to
    /// `onRecord` with its 1-based line number and primary key.
    ///
    /// The first `skipLines` lines (applied by an earlier run) are not
    /// parsed or handed out, but are still counted and checksummed. Blank
    /// lines are ignored. At the end the MD5 of the compressed bytes is
    /// compared with `file.md5Checksum` (when the manifest gives one) and
    /// the item lines with `file.itemCount`.
    ///
    /// - Parameters:
    ///   - skipLines: lines already applied; the next run's first record is
    ///     line `skipLines + 1`.
    /// - Throws: ``ExportError`` naming the file, and the line where there
    ///   is one: `.fileMissing`, `.storageFailed`, `.corruptData`,
    ///   `.truncatedData`, `.lineTooLong`, `.invalidLine`,
    ///   `.checksumMismatch`, `.itemCountMismatch`, `.resumeBeyondEnd`.
    ///   `.storageFailed` only after ``restartsAfterStorageFailure`` restarts.
    ///   An error thrown by `onRecord` is passed through unchanged and ends
    ///   the read.
    @discardableResult
    public func read(file: DataFile, storage: any ExportStorage, keySchema: KeySchema, skipLines: Int = 0,
                     onRecord: (_ lineNumber: Int, _ record: ExportRecord, _ key: ItemKey) throws -> Void) throws -> Summary {
        var progress = Progress(handOutAfter: skipLines)
        var restarts = 0
        while true {
            do {
                return try readOnce(file, storage, keySchema, skipLines, &progress, onRecord)
            } catch {
                let storageFailed = (error as? ExportError)?.code == .storageFailed
                guard storageFailed, restarts < restartsAfterStorageFailure else { throw error }
                restarts += 1
            }
        }
    }

    /// What survives a restart: the last line handed out, so none is handed out twice.
    private struct Progress {
        var handOutAfter: Int
        var handedOut = 0
    }

    private func readOnce(_ file: DataFile, _ storage: any ExportStorage, _ keySchema: KeySchema, _ skipLines: Int,
                          _ progress: inout Progress,
                          _ onRecord: (Int, ExportRecord, ItemKey) throws -> Void) throws -> Summary {
        let name = storage.location(of: file.key)
        let md5 = MD5Hasher()
        let lines = try GzipLineReader(fileName: name, maxLineBytes: maxLineBytes)
        var items = 0

        func handle(_ lineNumber: Int, _ bytes: UnsafeRawBufferPointer) throws {
            // Export writers end each line with "\n"; a stray blank line
            // (say, from a hand-made copy) holds no item.
            guard !Self.isBlank(bytes) else { return }
            items += 1
            guard lineNumber > progress.handOutAfter else { return }
            let parsed: (record: ExportRecord, key: ItemKey)
            do {
                parsed = try ExportRecord.parse(line: Array(bytes), type: file.exportType, keySchema: keySchema)
            } catch {
                throw (error as? ExportError)?.located(file: name, line: lineNumber) ?? error
            }
            progress.handOutAfter = lineNumber
            progress.handedOut += 1
            try onRecord(lineNumber, parsed.record, parsed.key)
        }

        try storage.stream(file.key) { chunk in
            md5.update(chunk)
            try lines.feed(chunk, onLine: handle)
        }
        try lines.finish(onLine: handle)

        let checksum = md5.finalBase64()
        if let expected = file.md5Checksum, expected != checksum {
            throw ExportError(.checksumMismatch, """
                the MD5 of the file is \(checksum), the manifest says \(expected): \
                the file is damaged or not the one the export wrote
                """, file: name)
        }
        guard items == file.itemCount else {
            throw ExportError(.itemCountMismatch,
                              "the file holds \(items) items, the manifest says \(file.itemCount)", file: name)
        }
        guard skipLines <= lines.linesRead else {
            throw ExportError(.resumeBeyondEnd, """
                resuming after line \(skipLines), but the file has only \(lines.linesRead) lines: \
                the checkpoint belongs to another file or export
                """, file: name)
        }
        return Summary(items: items, recordsHandedOut: progress.handedOut, lines: lines.linesRead,
                       compressedBytes: lines.compressedBytes, md5Checksum: checksum)
    }

    /// Empty, or nothing but JSON whitespace.
    private static func isBlank(_ line: UnsafeRawBufferPointer) -> Bool {
        line.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }
    }
}
