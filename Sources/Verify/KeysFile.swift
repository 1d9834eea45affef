import DynamoModel

/// The keys of `--keys FILE`: one DynamoDB JSON key per line, such as
/// `{"pk":{"S":"user#1"},"sk":{"N":"7"}}`. Blank lines and lines starting
/// with `#` are skipped, attributes other than the key are ignored, and a
/// line of a mismatch report (an object with `kind` and `key`) gives its
/// key, so a report can be fed back to check again what it found.
/// Repeated keys are read once.
public enum KeysFile {
    public static func read(path: String, keySchema: KeySchema) throws(VerifyError) -> [Item] {
        let bytes: [UInt8]
        do {
            bytes = try readFile(path)
        } catch {
            throw .keysFile(path: path, detail: error.detail)
        }
        return try parse(bytes, path: path, keySchema: keySchema)
    }

    public static func parse(_ bytes: [UInt8], path: String, keySchema: KeySchema) throws(VerifyError) -> [Item] {
        var keys: [Item] = []
        var seen: Set<ItemKey> = []
        var lineNumber = 0
        var start = 0
        while start < bytes.count {
            let end = bytes[start...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.count
            lineNumber += 1
            defer { start = end + 1 }
            let line = bytes[start..<end]
            guard let first = line.first(where: { $0 != 0x20 && $0 != 0x09 && $0 != 0x0D }), first != UInt8(ascii: "#") else {
                continue
            }
            do {
                let view = try JSONView(bytes, range: start..<end)
                let keyView: JSONView
                if view["kind"] != nil, let inner = view["key"] {
                    keyView = inner
                } else {
                    keyView = view
                }
                let key = try keySchema.key(of: try keyView.readItem())
                if seen.insert(key).inserted { keys.append(key.attributes) }
            } catch {
                throw .keysFile(path: path, detail: "line \(lineNumber): \(error)")
            }
        }
        return keys
    }
}

struct FileReadError: Error {
    let detail: String
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The whole file, without Foundation.
func readFile(_ path: String) throws(FileReadError) -> [UInt8] {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw FileReadError(detail: String(cString: strerror(errno))) }
    defer { close(fd) }
    var out: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 64 * 1024)
    while true {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0 {
            if errno == EINTR { continue }
            throw FileReadError(detail: String(cString: strerror(errno)))
        }
        if n == 0 { break }
        out.append(contentsOf: chunk[0..<n])
    }
    return out
}
