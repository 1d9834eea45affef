import Backfill
import XCTest

final class GzipLineReaderTests: XCTestCase {
    /// Feeds `compressed` in pieces of `chunk` bytes; returns the lines.
    private func lines(of compressed: [UInt8], chunk: Int = 1 << 16, outputChunkSize: Int = 1 << 16,
                       maxLineBytes: Int = 1 << 20) throws -> [(Int, String)] {
        let reader = try GzipLineReader(fileName: "mem.json.gz", maxLineBytes: maxLineBytes, outputChunkSize: outputChunkSize)
        var out: [(Int, String)] = []
        let collect = { (n: Int, line: UnsafeRawBufferPointer) in out.append((n, String(decoding: line, as: UTF8.self))) }
        var start = 0
        while start < compressed.count {
            let end = min(compressed.count, start + chunk)
            try compressed[start..<end].withUnsafeBytes { try reader.feed($0, onLine: collect) }
            start = end
        }
        try reader.finish(onLine: collect)
        return out
    }

    func testLines_spanningInputAndOutputChunks_comeOutWhole() throws {
        let text = (1...500).map { "line \($0) " + String(repeating: "x", count: $0 % 97) }
        let compressed = Gzip.compress(Array(text.map { $0 + "\n" }.joined().utf8))
        for (chunk, outChunk) in [(1, 7), (3, 1), (17, 64), (1 << 16, 1 << 16)] {
            let got = try lines(of: compressed, chunk: chunk, outputChunkSize: outChunk)
            XCTAssertEqual(got.map(\.1), text, "input chunk \(chunk), output chunk \(outChunk)")
            XCTAssertEqual(got.map(\.0), Array(1...500))
        }
    }

    func testFinalLine_withoutNewline_isALine() throws {
        let got = try lines(of: Gzip.compress(Array("a\nb\n\nlast".utf8)), chunk: 2, outputChunkSize: 3)
        XCTAssertEqual(got.map(\.1), ["a", "b", "", "last"])
        XCTAssertEqual(got.map(\.0), [1, 2, 3, 4])
    }

    func testMultiMemberGzip_isReadToTheEnd_evenWhenAMemberEndsMidLine() throws {
        let compressed = Gzip.compress(Array("one\ntw".utf8)) + Gzip.compress(Array("o\nthree\n".utf8))
            + Gzip.compress([]) + Gzip.compress(Array("four\n".utf8))
        for chunk in [1, 5, 1 << 16] {
            XCTAssertEqual(try lines(of: compressed, chunk: chunk).map(\.1), ["one", "two", "three", "four"], "chunk \(chunk)")
        }
    }

    func testEmptyFile_andEmptyGzip_giveNoLines() throws {
        XCTAssertEqual(try lines(of: []).count, 0)
        XCTAssertEqual(try lines(of: Gzip.compress([])).count, 0)
    }

    func testCorruptData_namesFileAndLineReached() throws {
        let text = (1...2000).map { "{\"n\":\($0)}" }.joined(separator: "\n")
        var compressed = Gzip.compress(Array(text.utf8), level: 1)
        // Damage the deflate stream well after the start, leaving the header.
        for i in stride(from: compressed.count / 2, to: compressed.count / 2 + 40, by: 1) { compressed[i] ^= 0x5A }
        XCTAssertThrowsError(try lines(of: compressed, chunk: 512)) { error in
            guard let error = error as? ExportError else { return XCTFail("\(error)") }
            XCTAssertTrue([.corruptData, .truncatedData].contains(error.code), "\(error)")
            XCTAssertEqual(error.file, "mem.json.gz")
            XCTAssertNotNil(error.line)
            XCTAssertGreaterThan(error.line ?? 0, 1)
        }
    }

    func testNotGzipAtAll_isCorruptAtLine1() throws {
        XCTAssertThrowsError(try lines(of: Array("{\"Item\":{}}\n".utf8))) { error in
            XCTAssertEqual((error as? ExportError)?.code, .corruptData, "\(error)")
            XCTAssertEqual((error as? ExportError)?.line, 1)
            XCTAssertTrue("\(error)".contains("mem.json.gz, line 1: corrupt gzip data"), "\(error)")
        }
    }

    func testTruncatedFile_isAnError_afterTheCompleteLines() throws {
        let compressed = Gzip.compress(Array((1...300).map { "line \($0)\n" }.joined().utf8))
        let reader = try GzipLineReader(fileName: "cut.json.gz")
        var seen = 0
        let cut = Array(compressed[0..<(compressed.count - 10)])
        try cut.withUnsafeBytes { try reader.feed($0) { _, _ in seen += 1 } }
        XCTAssertThrowsError(try reader.finish { _, _ in seen += 1 }) { error in
            guard let error = error as? ExportError else { return XCTFail("\(error)") }
            XCTAssertEqual(error.code, .truncatedData)
            XCTAssertEqual(error.file, "cut.json.gz")
            XCTAssertEqual(error.line, seen + 1)
        }
        // A last line cut short is never handed out.
        XCTAssertLessThan(seen, 300)
    }

    func testLineLongerThanTheLimit_isRejected() throws {
        let compressed = Gzip.compress(Array(("short\n" + String(repeating: "y", count: 5000) + "\n").utf8))
        XCTAssertThrowsError(try lines(of: compressed, chunk: 100, outputChunkSize: 256, maxLineBytes: 4096)) { error in
            XCTAssertEqual((error as? ExportError)?.code, .lineTooLong)
            XCTAssertEqual((error as? ExportError)?.line, 2)
        }
    }

    func testLargeFile_usesBoundedMemory() throws {
        // 40 MB of lines inflate through a 64 KiB buffer and one line buffer.
        let line = Array((String(repeating: "z", count: 999) + "\n").utf8)
        var text: [UInt8] = []
        text.reserveCapacity(line.count * 40_000)
        for _ in 0..<40_000 { text += line }
        let compressed = Gzip.compress(text, level: 1)
        let reader = try GzipLineReader(fileName: "big.json.gz")
        var count = 0
        var longest = 0
        try compressed.withUnsafeBytes { all in
            var start = 0
            while start < all.count {
                let end = min(all.count, start + 16 << 10)
                try reader.feed(UnsafeRawBufferPointer(rebasing: all[start..<end])) { _, l in
                    count += 1
                    longest = max(longest, l.count)
                }
                start = end
            }
        }
        try reader.finish { _, _ in count += 1 }
        XCTAssertEqual(count, 40_000)
        XCTAssertEqual(longest, 999)
        XCTAssertEqual(reader.compressedBytes, compressed.count)
    }
}
