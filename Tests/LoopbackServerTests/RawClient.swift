import Glibc

/// A deliberately tiny HTTP client on a raw socket, so tests control every
/// byte and see exactly how a connection ends (URLSession on Linux hides that).
final class RawClient {
    enum Failure: Error, Equatable {
        case connect(Int32)
        /// Orderly close before a complete response.
        case eof(received: Int)
        case reset
        case timeout
        case malformed(String)
    }

    struct Response {
        var status: Int
        var headers: [String: String]
        var body: [UInt8]
        var bodyText: String { String(decoding: body, as: UTF8.self) }
    }

    /// How the server ended the connection.
    enum Ending: Equatable {
        case eof
        case reset
        case timeout
    }

    let fd: Int32
    private var buffer: [UInt8] = []

    init(port: Int, timeoutSeconds: Int = 5) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = in_addr_t(UInt32(0x7F00_0001).bigEndian)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else {
            let code = errno
            close(fd)
            throw Failure.connect(code)
        }
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    func send(_ text: String) { send(Array(text.utf8)) }

    func send(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if sent <= 0 { return }
            offset += sent
        }
    }

    /// Reads one response; the body is delimited by Content-Length (none
    /// means empty, as for `HEAD` with `expectBody: false`).
    func readResponse(expectBody: Bool = true) throws(Failure) -> Response {
        var headEnd: Int?
        while true {
            headEnd = findHeadEnd()
            if headEnd != nil { break }
            try receiveMore()
        }
        let head = String(decoding: buffer[..<headEnd!], as: UTF8.self)
        buffer.removeSubrange(..<(headEnd! + 4))
        var lines = head.split(separator: "\r\n", omittingEmptySubsequences: false).map(String.init)
        let statusLine = lines.removeFirst()
        let parts = statusLine.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let status = Int(parts[1]) else {
            throw .malformed(statusLine)
        }
        var headers: [String: String] = [:]
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { throw .malformed(line) }
            let value = line[line.index(after: colon)...].drop { $0 == " " }
            headers[line[..<colon].lowercased()] = String(value)
        }
        let length = expectBody ? Int(headers["content-length"] ?? "0") ?? 0 : 0
        while buffer.count < length { try receiveMore() }
        let body = Array(buffer[..<length])
        buffer.removeSubrange(..<length)
        return Response(status: status, headers: headers, body: body)
    }

    /// Sends a request and reads its response.
    func request(_ text: String) throws(Failure) -> Response {
        send(text)
        return try readResponse()
    }

    /// Waits for the server to end the connection; bytes that arrive first
    /// are kept in `received`.
    func waitForEnd() -> (ending: Ending, received: [UInt8]) {
        while true {
            do {
                try receiveMore()
            } catch .reset {
                return (.reset, buffer)
            } catch .timeout {
                return (.timeout, buffer)
            } catch {
                return (.eof, buffer)
            }
        }
    }

    private func findHeadEnd() -> Int? {
        guard buffer.count >= 4 else { return nil }
        for index in 0...(buffer.count - 4)
        where buffer[index] == 13 && buffer[index + 1] == 10 && buffer[index + 2] == 13 && buffer[index + 3] == 10 {
            return index
        }
        return nil
    }

    private func receiveMore() throws(Failure) {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if count > 0 {
            buffer += chunk[..<count]
            return
        }
        if count == 0 { throw .eof(received: buffer.count) }
        switch errno {
        case ECONNRESET: throw .reset
        case EAGAIN, EWOULDBLOCK: throw .timeout
        default: throw .eof(received: buffer.count)
        }
    }
}

/// True if something accepts TCP connections on 127.0.0.1:`port`.
func isListening(port: Int) -> Bool {
    (try? RawClient(port: port)) != nil
}
