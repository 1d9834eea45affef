import Dispatch
import Glibc
import Synchronization

/// A small HTTP/1.1 server on 127.0.0.1 for tests and benchmarks.
///
/// It listens from `init` until `stop()` (or until the last reference goes
/// away). Each connection gets its own thread and stays open between
/// requests (keep-alive); the handler runs on that thread, once per request,
/// and its ``ServerAction`` decides what goes back: a response, a delay, a
/// truncated response, an orderly close or a reset.
///
/// Request bodies may use `Content-Length` or `Transfer-Encoding: chunked`;
/// `Expect: 100-continue` is answered with `100 Continue`. A malformed request
/// gets a 4xx answer and the connection closes. Nothing here raises SIGPIPE.
///
/// ```swift
/// let server = try LoopbackServer { request in
///     request.path == "/latest/api/token" ? .text(200, "token") : .json(404, "{}")
/// }
/// defer { server.stop() }
/// // point a client at server.baseURL
/// ```
///
/// Do not call `stop()` from inside the handler: `stop()` waits for every
/// connection thread, including the caller's.
public final class LoopbackServer: Sendable {
    /// Bounds on what one request may send; beyond them the server answers
    /// 431 or 413 and closes.
    public struct Limits: Sendable {
        public var maxHeaderBytes: Int
        public var maxBodyBytes: Int

        public init(maxHeaderBytes: Int = 64 * 1024, maxBodyBytes: Int = 64 << 20) {
            self.maxHeaderBytes = maxHeaderBytes
            self.maxBodyBytes = maxBodyBytes
        }
    }

    /// The TCP port the server listens on (the kernel's pick when `init` got 0).
    public let port: Int
    private let core: ServerCore

    /// Binds 127.0.0.1:`port` (0 picks a free port) and starts accepting.
    public init(
        port: Int = 0, limits: Limits = Limits(), backlog: Int32 = 1024,
        handler: @escaping @Sendable (ServerRequest) -> ServerAction
    ) throws(LoopbackServerError) {
        let listener = try Socket.listen(port: port, backlog: backlog)
        var pipeEnds: [Int32] = [0, 0]
        guard pipe(&pipeEnds) == 0 else {
            let error = LoopbackServerError(operation: "pipe", errno: errno)
            close(listener.fd)
            throw error
        }
        pipeEnds.forEach(Socket.setCloseOnExec)
        self.port = listener.port
        self.core = ServerCore(
            listenFD: listener.fd, stopRead: pipeEnds[0], stopWrite: pipeEnds[1],
            limits: limits, handler: handler)
        try core.start()
    }

    deinit { core.stop() }

    /// "http://127.0.0.1:PORT", without a trailing slash.
    public var baseURL: String { "http://127.0.0.1:\(port)" }

    /// Complete requests read so far (each one reached the handler).
    public var requestCount: Int { core.counters.withLock { $0.requests } }

    /// Connections accepted so far.
    public var connectionCount: Int { core.counters.withLock { $0.connections } }

    /// Connections open right now.
    public var openConnectionCount: Int { core.counters.withLock { $0.open.count } }

    /// Closes the listener and every connection, and returns once all server
    /// threads have finished. A handler still running finishes first; a
    /// `.delay` is cut short. Safe to call more than once.
    public func stop() { core.stop() }
}

/// The part that threads hold on to, so dropping the last ``LoopbackServer``
/// reference can still stop everything.
private final class ServerCore: Sendable {
    struct Counters {
        var stopping = false
        var descriptorsClosed = false
        var open: Set<Int32> = []
        var connections = 0
        var requests = 0
    }

    let listenFD: Int32
    /// Readable once `stop()` begins: the accept loop and delays poll it.
    let stopRead: Int32
    let stopWrite: Int32
    let limits: LoopbackServer.Limits
    let handler: @Sendable (ServerRequest) -> ServerAction
    let counters = Mutex(Counters())
    /// One member per live server thread; `stop()` waits for it to empty.
    let threads = DispatchGroup()

    init(
        listenFD: Int32, stopRead: Int32, stopWrite: Int32,
        limits: LoopbackServer.Limits, handler: @escaping @Sendable (ServerRequest) -> ServerAction
    ) {
        self.listenFD = listenFD
        self.stopRead = stopRead
        self.stopWrite = stopWrite
        self.limits = limits
        self.handler = handler
    }

    func start() throws(LoopbackServerError) {
        threads.enter()
        guard spawnThread({ [self] in
            acceptLoop()
            threads.leave()
        }) else {
            threads.leave()
            stop()
            throw LoopbackServerError(operation: "pthread_create", errno: errno)
        }
    }

    func stop() {
        let first = counters.withLock { state in
            if state.stopping { return false }
            state.stopping = true
            // Under the lock: a connection closes its descriptor under the same
            // lock, so no descriptor here can have been reused by someone else.
            for fd in state.open { shutdown(fd, Int32(SHUT_RDWR)) }
            return true
        }
        if first {
            var byte: UInt8 = 1
            _ = write(stopWrite, &byte, 1)
        }
        threads.wait()
        counters.withLock { state in
            guard !state.descriptorsClosed else { return }
            state.descriptorsClosed = true
            close(listenFD)
            close(stopRead)
            close(stopWrite)
        }
    }

    private func acceptLoop() {
        var watched = [
            pollfd(fd: listenFD, events: Int16(POLLIN), revents: 0),
            pollfd(fd: stopRead, events: Int16(POLLIN), revents: 0),
        ]
        while true {
            if poll(&watched, 2, -1) < 0, errno != EINTR { return }
            if watched[1].revents != 0 { return }
            guard watched[0].revents != 0 else { continue }
            while let fd = acceptOne() {
                guard admit(fd) else { return }
            }
        }
    }

    /// The next pending connection, or nil when none is waiting.
    private func acceptOne() -> Int32? {
        while true {
            let fd = accept(listenFD, nil, nil)
            if fd >= 0 { return fd }
            switch errno {
            case EINTR, ECONNABORTED:
                continue
            case EMFILE, ENFILE, ENOBUFS, ENOMEM:
                // Out of descriptors or memory: back off instead of spinning.
                _ = Socket.waitReadable(stopRead, milliseconds: 50)
                return nil
            default:
                return nil
            }
        }
    }

    /// Starts a connection thread for `fd`; false once the server is stopping.
    private func admit(_ fd: Int32) -> Bool {
        Socket.setCloseOnExec(fd)
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
        Socket.setNoDelay(fd)
        let connectionID: Int? = counters.withLock { state in
            if state.stopping { return nil }
            state.open.insert(fd)
            state.connections += 1
            threads.enter()
            return state.connections
        }
        guard let connectionID else {
            close(fd)
            return false
        }
        let started = spawnThread { [self] in
            HTTPConnection(fd: fd, id: connectionID, server: self).run()
            threads.leave()
        }
        if !started {
            finish(fd, .immediate)
            threads.leave()
        }
        return true
    }

    func nextRequestSequence() -> Int {
        counters.withLock { state in
            state.requests += 1
            return state.requests
        }
    }

    /// Waits up to `seconds`; false if `stop()` began meanwhile.
    func sleep(seconds: Double) -> Bool {
        let milliseconds = Int32(clamping: Int((max(0, seconds) * 1000).rounded(.up)))
        return !Socket.waitReadable(stopRead, milliseconds: milliseconds)
    }

    func finish(_ fd: Int32, _ closing: HTTPConnection.Closing) {
        switch closing {
        case .immediate: break
        case .lingering: Socket.lingeringShutdown(fd)
        case .abortive: Socket.setAbortiveClose(fd)
        }
        counters.withLock { state in
            state.open.remove(fd)
            close(fd)
        }
    }
}

/// One accepted connection: reads requests in a loop and performs the
/// handler's actions until either side closes.
private struct HTTPConnection {
    enum Closing {
        /// Plain `close`: FIN, or RST if unread input remains.
        case immediate
        /// After a final response: half-close and drain first.
        case lingering
        /// RST on purpose.
        case abortive
    }

    let fd: Int32
    let id: Int
    let server: ServerCore

    func run() {
        let fd = self.fd
        var reader = RequestReader(limits: server.limits) { Socket.receive(fd, into: $0) }
        var index = 0
        var closing = Closing.immediate
        while true {
            do throws(ReadFailure) {
                let head = try reader.readHead()
                if head.expectsContinue, head.framing != .none {
                    guard Socket.sendAll(fd, Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)) else { break }
                }
                let body = try reader.readBody(for: head)
                index += 1
                let request = ServerRequest(
                    method: head.method, target: head.target, version: head.version,
                    headerList: head.headers.map { (name: $0.name, value: $0.value) }, body: body,
                    connectionID: id, indexOnConnection: index, sequence: server.nextRequestSequence())
                if let end = perform(server.handler(request), for: head) {
                    closing = end
                    break
                }
            } catch {
                if case .rejected(let status, let reason) = error {
                    let answer = ResponseEncoder.encode(
                        status: status, headers: [(name: "Content-Type", value: "text/plain")],
                        body: Array("\(reason)\n".utf8), keepAlive: false, version: "HTTP/1.1", method: "GET")
                    closing = Socket.sendAll(fd, answer) ? .lingering : .immediate
                }
                break
            }
        }
        server.finish(fd, closing)
    }

    /// Performs one action; nil keeps the connection open for the next request.
    private func perform(_ action: ServerAction, for head: RequestHead) -> Closing? {
        switch action {
        case .respond(let status, let headers, let body):
            let keepAlive = head.keepAlive && !headers.contains {
                $0.name.lowercased() == "connection" && $0.value.lowercased().contains("close")
            }
            let bytes = ResponseEncoder.encode(
                status: status, headers: headers, body: body, keepAlive: keepAlive,
                version: head.version, method: head.method)
            guard Socket.sendAll(fd, bytes) else { return .immediate }
            return keepAlive ? nil : .lingering
        case .closeConnection:
            return .immediate
        case .resetConnection:
            return .abortive
        case .delay(let seconds, let next):
            guard server.sleep(seconds: seconds) else { return .immediate }
            return perform(next, for: head)
        case .respondPartial(let status, let headers, let body, let declaredLength):
            let bytes = ResponseEncoder.encode(
                status: status, headers: headers, body: body, keepAlive: false,
                version: head.version, method: head.method, declaredLength: declaredLength)
            _ = Socket.sendAll(fd, bytes)
            return .immediate
        }
    }
}
