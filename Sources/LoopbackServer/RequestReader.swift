/// Why the next request could not be read.
enum ReadFailure: Error, Equatable {
    /// EOF or a socket error: there is nobody to answer.
    case closed
    /// The bytes are not an acceptable request: answer `status`, then close.
    case rejected(status: Int, reason: String)
}

/// How the body of a request is delimited (RFC 9112 section 6).
enum BodyFraming: Equatable {
    case none
    case length(Int)
    case chunked
}

/// The request line and headers, checked, before the body is read.
struct RequestHead: Equatable {
    var method: String
    var target: String
    var version: String
    var headers: [Header]
    var framing: BodyFraming
    /// False when the connection must close after the response (HTTP/1.0
    /// without keep-alive, `Connection: close`, or ambiguous framing).
    var keepAlive: Bool
    /// The client waits for `100 Continue` before it sends the body.
    var expectsContinue: Bool

    struct Header: Equatable {
        var name: String
        var value: String
    }
}

/// Reads requests from a byte stream: an incremental HTTP/1.1 parser over a
/// buffer that `receive` refills. It knows nothing about sockets, so tests
/// feed it bytes directly.
struct RequestReader {
    /// Fills the buffer; returns the byte count, 0 at EOF, negative on error.
    typealias Receive = (UnsafeMutableRawBufferPointer) -> Int

    private let receive: Receive
    private let limits: LoopbackServer.Limits
    private var buffer: [UInt8] = []
    /// Index of the first unconsumed byte in `buffer`.
    private var start = 0
    /// Bytes before this index (and at or after `start`) hold no line feed,
    /// so a partial line is not scanned again after every refill.
    private var scanned = 0
    private var scratch: [UInt8]

    init(limits: LoopbackServer.Limits, receiveSize: Int = 64 * 1024, receive: @escaping Receive) {
        self.limits = limits
        self.receive = receive
        self.scratch = [UInt8](repeating: 0, count: receiveSize)
    }

    /// Reads the request line and the header section.
    mutating func readHead() throws(ReadFailure) -> RequestHead {
        var budget = limits.maxHeaderBytes
        var line = try nextLine(budget: &budget)
        // RFC 9112 2.2: a server should ignore empty lines before a request line.
        var skipped = 0
        while line.isEmpty {
            skipped += 1
            if skipped > 4 { throw .rejected(status: 400, reason: "empty request line") }
            line = try nextLine(budget: &budget)
        }
        let (method, target, version) = try parseRequestLine(buffer[line])

        var headers: [RequestHead.Header] = []
        while true {
            let range = try nextLine(budget: &budget)
            if range.isEmpty { break }
            headers.append(try parseHeaderLine(buffer[range]))
        }
        return try frame(method: method, target: target, version: version, headers: headers)
    }

    /// Reads the body that `head` announces, de-chunked.
    mutating func readBody(for head: RequestHead) throws(ReadFailure) -> [UInt8] {
        switch head.framing {
        case .none:
            return []
        case .length(let count):
            return try readExactly(count)
        case .chunked:
            return try readChunkedBody()
        }
    }

    // MARK: - Parsing

    private func parseRequestLine(_ line: ArraySlice<UInt8>) throws(ReadFailure) -> (String, String, String) {
        let parts = line.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, !parts[1].isEmpty else {
            throw .rejected(status: 400, reason: "malformed request line")
        }
        guard parts[0].allSatisfy(isTokenByte) else {
            throw .rejected(status: 400, reason: "malformed method")
        }
        guard parts[1].allSatisfy({ $0 > 0x20 && $0 != 0x7F }) else {
            throw .rejected(status: 400, reason: "malformed request target")
        }
        let version = String(decoding: parts[2], as: UTF8.self)
        guard version == "HTTP/1.1" || version == "HTTP/1.0" else {
            if version.hasPrefix("HTTP/") { throw .rejected(status: 505, reason: "unsupported version") }
            throw .rejected(status: 400, reason: "malformed version")
        }
        return (String(decoding: parts[0], as: UTF8.self), String(decoding: parts[1], as: UTF8.self), version)
    }

    private func parseHeaderLine(_ line: ArraySlice<UInt8>) throws(ReadFailure) -> RequestHead.Header {
        guard let first = line.first, first != UInt8(ascii: " "), first != UInt8(ascii: "\t") else {
            throw .rejected(status: 400, reason: "obsolete header folding")
        }
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")),
              colon > line.startIndex,
              line[line.startIndex..<colon].allSatisfy(isTokenByte)
        else {
            throw .rejected(status: 400, reason: "malformed header line")
        }
        var value = line[(colon + 1)...]
        while let byte = value.first, byte == 0x20 || byte == 0x09 { value = value.dropFirst() }
        while let byte = value.last, byte == 0x20 || byte == 0x09 { value = value.dropLast() }
        return RequestHead.Header(
            name: String(decoding: line[line.startIndex..<colon], as: UTF8.self),
            value: String(decoding: value, as: UTF8.self))
    }

    /// Decides framing, keep-alive and `Expect` from the headers (RFC 9112 6.3).
    private func frame(
        method: String, target: String, version: String, headers: [RequestHead.Header]
    ) throws(ReadFailure) -> RequestHead {
        var transferCodings: [String] = []
        var lengths: [String] = []
        var connectionTokens: [String] = []
        var expectsContinue = false
        for header in headers {
            switch header.name.lowercased() {
            case "transfer-encoding": transferCodings += commaList(header.value)
            case "content-length": lengths += commaList(header.value)
            case "connection": connectionTokens += commaList(header.value)
            case "expect": expectsContinue = header.value.lowercased() == "100-continue"
            default: break
            }
        }

        var keepAlive = version == "HTTP/1.1"
            ? !connectionTokens.contains("close")
            : connectionTokens.contains("keep-alive")
        let framing: BodyFraming
        if !transferCodings.isEmpty {
            guard transferCodings.last == "chunked" else {
                throw .rejected(status: 400, reason: "unsupported transfer coding")
            }
            framing = .chunked
            // Both headers present is a smuggling pattern: obey chunked, then close.
            if !lengths.isEmpty { keepAlive = false }
        } else if let length = lengths.first {
            guard lengths.allSatisfy({ $0 == length }), length.count <= 18,
                  length.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let count = Int(length)
            else {
                throw .rejected(status: 400, reason: "invalid Content-Length")
            }
            guard count <= limits.maxBodyBytes else { throw .rejected(status: 413, reason: "body too large") }
            framing = count == 0 ? .none : .length(count)
        } else {
            framing = .none
        }
        return RequestHead(
            method: method, target: target, version: version, headers: headers, framing: framing,
            keepAlive: keepAlive, expectsContinue: expectsContinue && version == "HTTP/1.1")
    }

    private func commaList(_ value: String) -> [String] {
        value.split(separator: ",").map { $0.trimmingSpaces().lowercased() }.filter { !$0.isEmpty }
    }

    private mutating func readChunkedBody() throws(ReadFailure) -> [UInt8] {
        var body: [UInt8] = []
        while true {
            var budget = 4096
            let sizeLine = try nextLine(budget: &budget)
            var field = buffer[sizeLine]
            if let semicolon = field.firstIndex(of: UInt8(ascii: ";")) { field = field[..<semicolon] }
            while let byte = field.last, byte == 0x20 || byte == 0x09 { field = field.dropLast() }
            guard let size = parseHex(field) else { throw .rejected(status: 400, reason: "invalid chunk size") }
            if size == 0 { break }
            guard size <= limits.maxBodyBytes - body.count else {
                throw .rejected(status: 413, reason: "body too large")
            }
            body += try readExactly(size)
            var byte = try readByte()
            if byte == UInt8(ascii: "\r") { byte = try readByte() }
            guard byte == UInt8(ascii: "\n") else {
                throw .rejected(status: 400, reason: "chunk data not followed by CRLF")
            }
        }
        // Trailer fields are read and dropped.
        var budget = limits.maxHeaderBytes
        while try !nextLine(budget: &budget).isEmpty {}
        return body
    }

    private func parseHex(_ digits: ArraySlice<UInt8>) -> Int? {
        guard !digits.isEmpty, digits.count <= 15 else { return nil }
        var value = 0
        for byte in digits {
            let digit: Int
            switch byte {
            case 0x30...0x39: digit = Int(byte - 0x30)
            case 0x41...0x46: digit = Int(byte - 0x41 + 10)
            case 0x61...0x66: digit = Int(byte - 0x61 + 10)
            default: return nil
            }
            value = value << 4 | digit
        }
        return value
    }

    // MARK: - Buffer

    /// The next line's range in `buffer`, without its CRLF (a bare LF is
    /// accepted too). Valid until the next refill. `budget` is the byte
    /// allowance left for the header section; exceeding it rejects with 431.
    private mutating func nextLine(budget: inout Int) throws(ReadFailure) -> Range<Int> {
        while true {
            if let lineFeed = buffer[scanned...].firstIndex(of: UInt8(ascii: "\n")) {
                let consumed = lineFeed + 1 - start
                guard consumed <= budget else { throw .rejected(status: 431, reason: "header section too large") }
                budget -= consumed
                var end = lineFeed
                if end > start, buffer[end - 1] == UInt8(ascii: "\r") { end -= 1 }
                let line = start..<end
                start = lineFeed + 1
                scanned = start
                return line
            }
            scanned = buffer.count
            guard buffer.count - start <= budget else {
                throw .rejected(status: 431, reason: "header section too large")
            }
            try fill()
        }
    }

    private mutating func readExactly(_ count: Int) throws(ReadFailure) -> [UInt8] {
        while buffer.count - start < count { try fill() }
        let bytes = Array(buffer[start..<(start + count)])
        start += count
        scanned = start
        return bytes
    }

    private mutating func readByte() throws(ReadFailure) -> UInt8 {
        while start == buffer.count { try fill() }
        let byte = buffer[start]
        start += 1
        scanned = max(scanned, start)
        return byte
    }

    /// Appends whatever the peer sent next; throws `.closed` at EOF or error.
    private mutating func fill() throws(ReadFailure) {
        if start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            start = 0
            scanned = 0
        } else if start >= 64 * 1024, start * 2 >= buffer.count {
            // Compact only when most of the buffer is consumed: each byte moves O(1) times.
            buffer.removeSubrange(0..<start)
            scanned -= start
            start = 0
        }
        let count = scratch.withUnsafeMutableBytes { receive($0) }
        guard count > 0 else { throw .closed }
        buffer.append(contentsOf: scratch[0..<count])
    }
}

/// RFC 9110 `tchar`: the bytes allowed in methods and header names.
private func isTokenByte(_ byte: UInt8) -> Bool {
    switch byte {
    case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
         UInt8(ascii: "0")...UInt8(ascii: "9"):
        return true
    default:
        return "!#$%&'*+-.^_`|~".utf8.contains(byte)
    }
}

extension Substring {
    fileprivate func trimmingSpaces() -> Substring {
        var result = self
        while let c = result.first, c == " " || c == "\t" { result = result.dropFirst() }
        while let c = result.last, c == " " || c == "\t" { result = result.dropLast() }
        return result
    }
}
