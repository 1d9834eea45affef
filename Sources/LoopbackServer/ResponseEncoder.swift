/// Serializes a response head and body into the bytes that go on the wire.
enum ResponseEncoder {
    /// - Parameters:
    ///   - keepAlive: false adds `Connection: close`.
    ///   - version: the request's version; an HTTP/1.0 client that asked for
    ///     keep-alive gets `Connection: keep-alive` back.
    ///   - method: no body is sent for `HEAD` (the length is still announced).
    ///   - declaredLength: the `Content-Length` to announce when it should
    ///     differ from `body.count` (truncated responses).
    static func encode(
        status: Int, headers: [(name: String, value: String)], body: [UInt8],
        keepAlive: Bool, version: String, method: String, declaredLength: Int? = nil
    ) -> [UInt8] {
        var head = "HTTP/1.1 \(status) \(reasonPhrase(status))\r\n"
        for header in headers {
            switch header.name.lowercased() {
            case "content-length", "transfer-encoding", "connection": continue
            default: head += "\(header.name): \(header.value)\r\n"
            }
        }
        // RFC 9110 8.6: no Content-Length on 1xx and 204; 304 carries no body.
        let bodyless = (100..<200).contains(status) || status == 204 || status == 304
        if !bodyless {
            head += "Content-Length: \(declaredLength ?? body.count)\r\n"
        }
        if !keepAlive {
            head += "Connection: close\r\n"
        } else if version == "HTTP/1.0" {
            head += "Connection: keep-alive\r\n"
        }
        head += "\r\n"
        var bytes = Array(head.utf8)
        if !bodyless, method != "HEAD" {
            bytes += body
        }
        return bytes
    }

    static func reasonPhrase(_ status: Int) -> String {
        switch status {
        case 100: "Continue"
        case 200: "OK"
        case 201: "Created"
        case 204: "No Content"
        case 206: "Partial Content"
        case 301: "Moved Permanently"
        case 302: "Found"
        case 304: "Not Modified"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 408: "Request Timeout"
        case 409: "Conflict"
        case 411: "Length Required"
        case 413: "Content Too Large"
        case 417: "Expectation Failed"
        case 429: "Too Many Requests"
        case 431: "Request Header Fields Too Large"
        case 500: "Internal Server Error"
        case 501: "Not Implemented"
        case 502: "Bad Gateway"
        case 503: "Service Unavailable"
        case 504: "Gateway Timeout"
        case 505: "HTTP Version Not Supported"
        default: "Status \(status)"
        }
    }
}
