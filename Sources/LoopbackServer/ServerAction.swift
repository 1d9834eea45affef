/// What the server does with one request. The handler returns one of these;
/// the connection thread performs it.
public enum ServerAction: Sendable {
    /// A complete response. `Content-Length` is computed by the server (a
    /// handler's own `Content-Length` or `Transfer-Encoding` is dropped).
    /// A `Connection: close` header in `headers` makes the server close the
    /// connection after sending.
    case respond(status: Int, headers: [(name: String, value: String)] = [], body: [UInt8] = [])

    /// Close the socket in order (FIN) without answering: the client reads
    /// EOF where it expected a status line (libcurl: "Empty reply from server").
    case closeConnection

    /// Abort the connection without answering (`SO_LINGER` 0, so the kernel
    /// sends RST): the client sees ECONNRESET (libcurl: "Connection reset by peer").
    case resetConnection

    /// Wait, then perform the next action. A `stop()` during the wait ends it
    /// early and closes the connection.
    indirect case delay(_ seconds: Double, then: ServerAction)

    /// A truncated response: the head announces `Content-Length: declaredLength`,
    /// only `body` follows (meant to be shorter), then the connection closes.
    case respondPartial(status: Int, headers: [(name: String, value: String)] = [], body: [UInt8], declaredLength: Int)

    /// A complete response with a JSON body (`Content-Type: application/json`
    /// unless `headers` names another).
    public static func json(_ status: Int, _ body: String, headers: [(name: String, value: String)] = []) -> ServerAction {
        .respond(status: status, headers: withDefaultContentType(headers, "application/json"), body: Array(body.utf8))
    }

    /// A complete response with a plain-text body.
    public static func text(_ status: Int, _ body: String, headers: [(name: String, value: String)] = []) -> ServerAction {
        .respond(status: status, headers: withDefaultContentType(headers, "text/plain; charset=utf-8"), body: Array(body.utf8))
    }

    /// `200` with an empty body.
    public static var ok: ServerAction { .respond(status: 200) }

    private static func withDefaultContentType(
        _ headers: [(name: String, value: String)], _ contentType: String
    ) -> [(name: String, value: String)] {
        if headers.contains(where: { $0.name.lowercased() == "content-type" }) { return headers }
        return [(name: "Content-Type", value: contentType)] + headers
    }
}
