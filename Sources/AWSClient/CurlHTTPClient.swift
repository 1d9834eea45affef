import CCurl
import Foundation
import Synchronization

/// Options for ``CurlHTTPClient``.
public struct HTTPClientOptions: Sendable {
    /// Seconds to wait for the TCP (and TLS) connection.
    public var connectTimeout: Double = 5
    /// Seconds for the whole exchange, connection included.
    public var totalTimeout: Double = 60
    /// Verify the server's TLS certificate and host name. Only tests turn
    /// this off; a user with a private CA sets ``caBundlePath`` instead.
    public var verifyTLS: Bool = true
    /// A PEM file of CA certificates to trust instead of the system's.
    public var caBundlePath: String?
    /// Idle handles kept for reuse; each keeps its own connections alive.
    public var maxIdleHandles: Int = 8
    /// The `User-Agent` header: who is calling (in lease mode it names the
    /// worker, so the server's logs show who wrote). Not signed.
    public var userAgent: String?

    public init(connectTimeout: Double = 5, totalTimeout: Double = 60, verifyTLS: Bool = true,
                caBundlePath: String? = nil, maxIdleHandles: Int = 8) {
        self.connectTimeout = connectTimeout
        self.totalTimeout = totalTimeout
        self.verifyTLS = verifyTLS
        self.caBundlePath = caBundlePath
        self.maxIdleHandles = maxIdleHandles
    }
}

/// `curl_global_init` must run once, before any handle exists, and is not
/// thread-safe; a global `let` is initialised exactly once, atomically.
private let curlGlobalInit: CURLcode = curl_global_init(Int(CURL_GLOBAL_DEFAULT))

/// HTTP over libcurl easy handles.
///
/// A handle keeps its connections alive between requests, so each owner (a
/// shard reader, a writer lane) should hold its own client. A client is
/// still safe to share: a request borrows an idle handle from a small pool
/// and returns it afterwards, so concurrent callers never share a handle.
public final class CurlHTTPClient: HTTPTransport {
    public let options: HTTPClientOptions
    private let idle = Mutex<[EasyHandle]>([])

    public init(options: HTTPClientOptions = HTTPClientOptions()) {
        precondition(curlGlobalInit == CURLE_OK, "curl_global_init failed")
        self.options = options
    }

    public func send(_ request: HTTPRequest, operation: String) throws(HTTPError) -> HTTPResponse {
        try perform(request, operation: operation, onBody: nil)
    }

    /// Sends the request and hands a successful (2xx) response body to
    /// `onBody` chunk by chunk as it arrives, never holding it whole. An error
    /// thrown by `onBody` aborts the transfer and is rethrown as
    /// ``HTTPError`` of kind `.other` carrying its description. Bodies of
    /// non-2xx responses are collected into the returned response instead,
    /// so the caller can decode the service error.
    public func stream(_ request: HTTPRequest, operation: String,
                       onBody: (UnsafeRawBufferPointer) throws -> Void) throws(HTTPError) -> HTTPResponse {
        try withoutActuallyEscaping(onBody) { body throws(HTTPError) in
            try perform(request, operation: operation, onBody: body)
        }
    }

    private func perform(_ request: HTTPRequest, operation: String,
                         onBody: ((UnsafeRawBufferPointer) throws -> Void)?) throws(HTTPError) -> HTTPResponse {
        let handle = idle.withLock { $0.popLast() } ?? EasyHandle()
        defer {
            idle.withLock { pool in
                if pool.count < options.maxIdleHandles { pool.append(handle) }
            }
        }
        return try handle.perform(request, operation: operation, options: options, onBody: onBody)
    }
}

/// What the C callbacks write into while a transfer runs.
private final class TransferState {
    var status: Int = 0
    var headers: [String: String] = [:]
    var body: [UInt8] = []
    var onBody: ((UnsafeRawBufferPointer) throws -> Void)?
    var callbackError: Error?
    let handle: UnsafeMutableRawPointer
    /// The thread's ``RequestGate``, asked before the request leaves and
    /// (at most every 20 ms) while it runs.
    var gate: (() -> Bool)?
    var gateCheckedAt = 0.0
    var withheld = false

    init(handle: UnsafeMutableRawPointer) { self.handle = handle }
}

/// One libcurl easy handle. Owned by exactly one caller at a time (the pool
/// in ``CurlHTTPClient`` hands it out), hence `@unchecked Sendable`.
private final class EasyHandle: @unchecked Sendable {
    let curl: UnsafeMutableRawPointer
    var errorBuffer = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)

    init() {
        guard let h = curl_easy_init() else { fatalError("curl_easy_init returned NULL (out of memory)") }
        curl = h
    }

    deinit { curl_easy_cleanup(curl) }

    func perform(_ request: HTTPRequest, operation: String, options: HTTPClientOptions,
                 onBody: ((UnsafeRawBufferPointer) throws -> Void)?) throws(HTTPError) -> HTTPResponse {
        let host = URLHost.of(request.url)
        // Reset clears the options of the last request but keeps live
        // connections, the DNS cache and TLS sessions: keep-alive survives.
        curl_easy_reset(curl)
        let state = TransferState(handle: curl)
        state.onBody = onBody
        state.gate = RequestGate.current

        var headerList: UnsafeMutablePointer<curl_slist>? = nil
        defer { curl_slist_free_all(headerList) }
        for (name, value) in request.headers {
            headerList = curl_slist_append(headerList, value.isEmpty ? "\(name);" : "\(name): \(value)")
        }
        // curl adds "Expect: 100-continue" to larger POSTs, costing a round trip.
        headerList = curl_slist_append(headerList, "Expect:")
        if request.header("Accept") == nil { headerList = curl_slist_append(headerList, "Accept:") }
        // curl labels every POST body as a form unless told otherwise.
        if request.header("Content-Type") == nil { headerList = curl_slist_append(headerList, "Content-Type:") }

        let code: CURLcode = request.url.withCString { url in
            request.body.withUnsafeBytes { body in
                errorBuffer.withUnsafeMutableBufferPointer { errbuf in
                    errbuf[0] = 0
                    _ = ferry_curl_setopt_pointer(curl, CURLOPT_ERRORBUFFER, errbuf.baseAddress)
                    _ = ferry_curl_setopt_string(curl, CURLOPT_URL, url)
                    _ = ferry_curl_setopt_long(curl, CURLOPT_NOSIGNAL, 1)
                    _ = ferry_curl_setopt_long(curl, CURLOPT_TCP_KEEPALIVE, 1)
                    _ = ferry_curl_setopt_long(curl, CURLOPT_CONNECTTIMEOUT_MS, Int(options.connectTimeout * 1000))
                    _ = ferry_curl_setopt_long(curl, CURLOPT_TIMEOUT_MS, Int(options.totalTimeout * 1000))
                    _ = ferry_curl_setopt_long(curl, CURLOPT_SSL_VERIFYPEER, options.verifyTLS ? 1 : 0)
                    _ = ferry_curl_setopt_long(curl, CURLOPT_SSL_VERIFYHOST, options.verifyTLS ? 2 : 0)
                    if let ca = options.caBundlePath { _ = ferry_curl_setopt_string(curl, CURLOPT_CAINFO, ca) }
                    if let agent = options.userAgent { _ = ferry_curl_setopt_string(curl, CURLOPT_USERAGENT, agent) }
                    _ = ferry_curl_setopt_long(curl, CURLOPT_PROTOCOLS, Int(CURLPROTO_HTTP | CURLPROTO_HTTPS))
                    _ = ferry_curl_setopt_slist(curl, CURLOPT_HTTPHEADER, headerList)

                    switch request.method {
                    case "GET": _ = ferry_curl_setopt_long(curl, CURLOPT_HTTPGET, 1)
                    case "HEAD": _ = ferry_curl_setopt_long(curl, CURLOPT_NOBODY, 1)
                    default:
                        if request.method != "POST" {
                            _ = ferry_curl_setopt_string(curl, CURLOPT_CUSTOMREQUEST, request.method)
                        }
                        _ = ferry_curl_setopt_long(curl, CURLOPT_POST, 1)
                        _ = ferry_curl_setopt_off(curl, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count))
                        // An empty body still needs a valid pointer, or curl reads stdin.
                        _ = ferry_curl_setopt_pointer(curl, CURLOPT_POSTFIELDS,
                                                      UnsafeMutableRawPointer(mutating: body.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!))
                    }

                    let context = Unmanaged.passUnretained(state).toOpaque()
                    _ = ferry_curl_setopt_write(curl, CURLOPT_WRITEFUNCTION, writeCallback)
                    _ = ferry_curl_setopt_pointer(curl, CURLOPT_WRITEDATA, context)
                    _ = ferry_curl_setopt_write(curl, CURLOPT_HEADERFUNCTION, headerCallback)
                    _ = ferry_curl_setopt_pointer(curl, CURLOPT_HEADERDATA, context)
                    if state.gate != nil {
                        _ = ferry_curl_setopt_prereq(curl, prereqCallback)
                        _ = ferry_curl_setopt_prereq_data(curl, context)
                        _ = ferry_curl_setopt_xferinfo(curl, xferinfoCallback)
                        _ = ferry_curl_setopt_xferinfo_data(curl, context)
                        _ = ferry_curl_setopt_long(curl, CURLOPT_NOPROGRESS, 0)
                    }
                    return withExtendedLifetime(state) { curl_easy_perform(curl) }
                }
            }
        }

        if code != CURLE_OK {
            if state.withheld {
                throw HTTPError(kind: .withheld, host: host, operation: operation,
                                detail: "not sent: this worker may no longer write it")
            }
            if let error = state.callbackError {
                throw HTTPError(kind: .other, host: host, operation: operation, detail: "\(error)")
            }
            let detail = errorBuffer.withUnsafeBufferPointer { buf -> String in
                let text = String(cString: buf.baseAddress!)
                return text.isEmpty ? String(cString: curl_easy_strerror(code)) : text
            }
            throw HTTPError(kind: Self.kind(of: code), host: host, operation: operation, detail: detail)
        }
        var status = 0
        _ = ferry_curl_getinfo_long(curl, CURLINFO_RESPONSE_CODE, &status)
        return HTTPResponse(status: status, headers: state.headers, body: state.body)
    }

    static func kind(of code: CURLcode) -> HTTPError.Kind {
        switch code {
        case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY:
            return .connect
        case CURLE_OPERATION_TIMEDOUT:
            return .timeout
        case CURLE_RECV_ERROR, CURLE_SEND_ERROR, CURLE_GOT_NOTHING, CURLE_PARTIAL_FILE:
            return .connectionReset
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CERTPROBLEM,
             CURLE_SSL_CIPHER, CURLE_SSL_CACERT_BADFILE, CURLE_SSL_ISSUER_ERROR,
             CURLE_SSL_PINNEDPUBKEYNOTMATCH, CURLE_SSL_INVALIDCERTSTATUS:
            return .tls
        case CURLE_URL_MALFORMAT, CURLE_UNSUPPORTED_PROTOCOL:
            return .invalidURL
        default:
            return .other
        }
    }
}

/// Right before the request's first byte is sent: 1 aborts it.
private let prereqCallback: ferry_curl_prereq_cb = { userdata, _, _, _, _ in
    guard let userdata else { return 0 }
    let state = Unmanaged<TransferState>.fromOpaque(userdata).takeUnretainedValue()
    guard let gate = state.gate else { return 0 }
    state.gateCheckedAt = TargetNodes.monotonicNow()
    if gate() { return 0 }
    state.withheld = true
    return 1
}

/// While the exchange runs: a non-zero answer aborts it.
private let xferinfoCallback: ferry_curl_xferinfo_cb = { userdata, _, _, _, _ in
    guard let userdata else { return 0 }
    let state = Unmanaged<TransferState>.fromOpaque(userdata).takeUnretainedValue()
    guard let gate = state.gate else { return 0 }
    let now = TargetNodes.monotonicNow()
    guard now - state.gateCheckedAt >= 0.02 else { return 0 }
    state.gateCheckedAt = now
    if gate() { return 0 }
    state.withheld = true
    return 1
}

private let writeCallback: ferry_curl_write_cb = { ptr, size, nmemb, userdata in
    let count = size * nmemb
    guard let userdata, let ptr else { return count }
    let state = Unmanaged<TransferState>.fromOpaque(userdata).takeUnretainedValue()
    let chunk = UnsafeRawBufferPointer(start: ptr, count: count)
    if let onBody = state.onBody {
        if state.status == 0 {
            var code = 0
            _ = ferry_curl_getinfo_long(state.handle, CURLINFO_RESPONSE_CODE, &code)
            state.status = code
        }
        if (200..<300).contains(state.status) {
            do { try onBody(chunk) } catch {
                state.callbackError = error
                return 0  // makes curl abort with CURLE_WRITE_ERROR
            }
            return count
        }
    }
    state.body.append(contentsOf: chunk)
    return count
}

private let headerCallback: ferry_curl_write_cb = { ptr, size, nmemb, userdata in
    let count = size * nmemb
    guard let userdata, let ptr else { return count }
    let state = Unmanaged<TransferState>.fromOpaque(userdata).takeUnretainedValue()
    // Byte-level: called for every header line of every response, where
    // String trimming through Foundation cost more than signing a request.
    let line = UnsafeRawBufferPointer(start: ptr, count: count)
    if line.starts(with: "HTTP/".utf8) {
        // A new status line (after a redirect or a 100 Continue) starts a new header block.
        state.headers.removeAll()
        state.status = 0
    } else if let colon = line.firstIndex(of: UInt8(ascii: ":")) {
        func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0D || b == 0x0A }
        var start = colon + 1, end = count
        while start < end, isSpace(line[start]) { start += 1 }
        while end > start, isSpace(line[end - 1]) { end -= 1 }
        let name = String(decoding: line[..<colon].map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }, as: UTF8.self)
        let value = String(decoding: line[start..<end], as: UTF8.self)
        state.headers[name] = value
        // Size the body once: growing a 1 MB GetRecords answer by doubling
        // costs copies and page faults on every response.
        if name == "content-length", let length = Int(value), length > 0, length < 64 << 20, state.onBody == nil {
            state.body.reserveCapacity(length)
        }
    }
    return count
}
