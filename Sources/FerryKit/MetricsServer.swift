#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Logging
import Synchronization

/// `state.metrics_listen`: the Prometheus text of ``MetricsFile/render(_:)``
/// at `GET /metrics` (404 elsewhere), for scrapers that pull over HTTP
/// (containers, Kubernetes) rather than read a textfile.
///
/// One thread, blocking sockets: accept, read one short request, answer,
/// close. A scrape every few seconds needs no more, and a slow or stuck
/// client is cut off by 2-second socket timeouts rather than given a
/// thread of its own. What it serves is counts and lag, never item data
/// or secrets.
public final class MetricsServer: Sendable {
    /// The port bound (differs from the configured one only when that is 0).
    public let port: Int
    private let listener: Int32
    private let body: @Sendable () -> String?
    private let stopped = Atomic<Bool>(false)
    private let done = DispatchSemaphore(value: 0)

    /// Binds and starts serving. `body` gives the metrics text, nil when
    /// there is none yet (answered 503).
    public init(address: MetricsListenAddress, body: @escaping @Sendable () -> String?) throws {
        (listener, port) = try Self.bind(address)
        self.body = body
        let thread = Thread { [self] in
            self.serve()
            self.done.signal()
        }
        thread.name = "ferry.metrics"
        thread.start()
    }

    /// Stops accepting and closes the socket (after the request in hand).
    public func stop() {
        guard !stopped.exchange(true, ordering: .relaxed) else { return }
        done.wait()
        close(listener)
    }

    private func serve() {
        while !stopped.load(ordering: .relaxed) {
            // poll with a timeout, so stop() is seen within a quarter second.
            var entry = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            guard poll(&entry, 1, 250) > 0 else { continue }
            let client = accept(listener, nil, nil)
            guard client >= 0 else { continue }
            Self.setTimeouts(client, seconds: 2)
            answer(client)
            close(client)
        }
    }

    private func answer(_ fd: Int32) {
        guard let head = Self.readHead(fd) else { return }
        let requestLine = head.split(separator: "\r\n", maxSplits: 1).first.map(String.init) ?? ""
        let parts = requestLine.split(separator: " ")
        guard parts.count == 3 else { return Self.send(fd, 400, "bad request\n", head: false) }
        let method = parts[0], path = parts[1].split(separator: "?", maxSplits: 1).first.map(String.init) ?? ""
        guard method == "GET" || method == "HEAD" else { return Self.send(fd, 405, "only GET\n", head: false) }
        guard path == "/metrics" else { return Self.send(fd, 404, "not found: metrics are at /metrics\n", head: method == "HEAD") }
        guard let text = body() else { return Self.send(fd, 503, "no metrics yet\n", head: method == "HEAD") }
        Self.send(fd, 200, text, head: method == "HEAD", type: "text/plain; version=0.0.4; charset=utf-8")
    }

    /// The request line and headers, up to 8 KiB (a scrape sends a few
    /// hundred bytes); nil when the client sent nothing usable in time.
    static func readHead(_ fd: Int32) -> String? {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 2048)
        while bytes.count < 8192 {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { break }
            bytes += buffer[0..<n]
            if endsHead(bytes) { break }
        }
        guard !bytes.isEmpty else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// True once the blank line that ends the headers has arrived.
    static func endsHead(_ bytes: [UInt8]) -> Bool {
        guard bytes.count >= 4 else { return false }
        for i in 0...(bytes.count - 4) where bytes[i] == 13 && bytes[i + 1] == 10 && bytes[i + 2] == 13 && bytes[i + 3] == 10 {
            return true
        }
        return false
    }

    static func send(_ fd: Int32, _ status: Int, _ body: String, head: Bool, type: String = "text/plain; charset=utf-8") {
        let reason = [200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed", 503: "Service Unavailable"][status] ?? "Error"
        let payload = Array(body.utf8)
        var out = Array("HTTP/1.1 \(status) \(reason)\r\nContent-Type: \(type)\r\nContent-Length: \(payload.count)\r\nConnection: close\r\n\r\n".utf8)
        if !head { out += payload }
        var offset = 0
        while offset < out.count {
            let n = out[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { return }
            offset += n
        }
    }

    static func setTimeouts(_ fd: Int32, seconds: Int) {
        var limit = timeval(tv_sec: seconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
    }

    /// A listening socket on the address; the error names the address and
    /// what to change.
    static func bind(_ address: MetricsListenAddress) throws -> (Int32, Int) {
        let family = address.isIPv6 ? AF_INET6 : AF_INET
        let fd = socket(family, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw SetupError("state.metrics_listen \(address): socket failed: \(String(cString: strerror(errno)))") }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        var one: Int32 = 1
        // A restart may find the old connections in TIME_WAIT.
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var storage = sockaddr_storage()
        var length: socklen_t
        if address.isIPv6 {
            var a = sockaddr_in6()
            a.sin6_family = sa_family_t(AF_INET6)
            a.sin6_port = in_port_t(UInt16(address.port).bigEndian)
            _ = inet_pton(AF_INET6, address.host, &a.sin6_addr)
            length = socklen_t(MemoryLayout<sockaddr_in6>.size)
            withUnsafeBytes(of: a) { src in withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: src) } }
        } else {
            var a = sockaddr_in()
            a.sin_family = sa_family_t(AF_INET)
            a.sin_port = in_port_t(UInt16(address.port).bigEndian)
            _ = inet_pton(AF_INET, address.host, &a.sin_addr)
            length = socklen_t(MemoryLayout<sockaddr_in>.size)
            withUnsafeBytes(of: a) { src in withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: src) } }
        }
        let bound = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, length) }
        }
        guard bound == 0, listen(fd, 16) == 0 else {
            let why = String(cString: strerror(errno))
            close(fd)
            throw SetupError("state.metrics_listen \(address): cannot listen: \(why); pick a free port or an address of this host")
        }
        var actual = sockaddr_storage()
        var actualLength = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &actualLength) }
        }
        let port = withUnsafeBytes(of: actual) { raw -> Int in
            address.isIPv6 ? Int(UInt16(bigEndian: raw.load(as: sockaddr_in6.self).sin6_port))
                           : Int(UInt16(bigEndian: raw.load(as: sockaddr_in.self).sin_port))
        }
        return (fd, port)
    }
}
