import Dispatch
import Foundation
import Logging
import Replication
import Synchronization

/// Once a second: the metrics file (and the status file, when given), and
/// systemd's READY/STATUS/WATCHDOG messages, from whatever status report
/// the running command provides. Files keep being written while Ferry
/// drains after a stop signal, until ``finish()`` or ``cancel()``. With a
/// listen address, the same metrics are served over HTTP meanwhile.
public final class StatusPump: Sendable {
    private let notifier: SystemdNotifier
    private let metricsPath: String?
    private let statusPath: String?
    private let report: @Sendable () -> StatusReport?
    private let timer: DispatchSourceTimerBox
    private let readySent = Atomic<Bool>(false)
    private let stoppingSent = Atomic<Bool>(false)
    private let metricsListen: MetricsListenAddress?
    private let logger: Logger
    private let server = Mutex<MetricsServer?>(nil)
    /// The metrics text of the last tick, for the HTTP endpoint.
    private let lastMetrics = Mutex<String?>(nil)

    public init(notifier: SystemdNotifier = SystemdNotifier(), metricsPath: String?, statusPath: String? = nil,
                metricsListen: MetricsListenAddress? = nil, logger: Logger = Logger(label: "ferry.metrics"),
                report: @escaping @Sendable () -> StatusReport?) {
        self.notifier = notifier
        self.metricsListen = metricsListen
        self.logger = logger
        self.metricsPath = metricsPath
        self.statusPath = statusPath
        self.report = report
        let interval = min(1.0, notifier.watchdogInterval ?? 1.0)
        timer = DispatchSourceTimerBox(interval: interval)
        timer.setHandler { [weak self] in self?.tick() }
    }

    public func start() {
        timer.resume()
        guard let address = metricsListen else { return }
        do {
            let started = try MetricsServer(address: address) { [weak self] in self?.metricsText() }
            server.withLock { $0 = started }
            logger.info("serving metrics over HTTP", metadata: ["listen": "\(address)", "path": "/metrics"])
        } catch {
            // Metrics are for watching; a taken port must not stop replication.
            logger.error("metrics endpoint not started", metadata: ["error": "\(error)"])
        }
    }

    /// The port the metrics endpoint listens on, when it runs.
    public var metricsPort: Int? { server.withLock { $0?.port } }

    private func metricsText() -> String? {
        if let text = lastMetrics.withLock({ $0 }) { return text }
        return report().map(MetricsFile.render)
    }

    private func stopServer() {
        let running = server.withLock { s -> MetricsServer? in defer { s = nil }; return s }
        running?.stop()
    }

    /// Tells systemd Ferry is stopping; the files (and the watchdog) go on
    /// while it drains.
    public func stopping() {
        if !stoppingSent.exchange(true, ordering: .relaxed) { notifier.stopping() }
    }

    /// Stops the pump without telling systemd anything (a phase ended).
    public func cancel() {
        timer.cancel()
        stopServer()
    }

    /// Stops the pump and writes the files one last time, after any tick
    /// still running (so the last state written is the final one).
    public func finish() {
        timer.cancel()
        timer.sync { writeFiles() }
        stopServer()
    }

    @discardableResult
    private func writeFiles() -> StatusReport? {
        guard let r = report() else { return nil }
        if let statusPath { try? r.write(to: statusPath) }
        if metricsPath != nil || metricsListen != nil {
            let text = MetricsFile.render(r)
            if let metricsPath { try? AtomicFile.write(Array(text.utf8), to: metricsPath, mode: 0o644) }
            lastMetrics.withLock { $0 = text }
        }
        return r
    }

    func tick() {
        if notifier.watchdogInterval != nil { notifier.watchdog() }
        guard let r = writeFiles() else { return }
        guard notifier.isActive, !stoppingSent.load(ordering: .relaxed) else { return }
        let text: String
        switch r.phase {
        case .streaming: text = String(format: "streaming, lag %.1f s, %d records applied", r.lagSeconds, r.totals.put + r.totals.deleted + r.totals.updated)
        case .backfilling: text = "backfilling, \(r.backfill?["items"] ?? r.totals.put) items written"
        default: text = r.phase.rawValue
        }
        if (r.phase == .streaming || r.phase == .backfilling), !readySent.exchange(true, ordering: .relaxed) {
            notifier.ready(status: text)
        } else {
            notifier.status(text)
        }
    }
}

/// A repeating Dispatch timer (`@unchecked`: the source is set up in init
/// and only resumed or cancelled afterwards).
final class DispatchSourceTimerBox: @unchecked Sendable {
    private let source: DispatchSourceTimer
    private let queue = DispatchQueue(label: "ferry.timer")
    private let resumed = Atomic<Bool>(false)

    init(interval: Double, startAfter delay: Double? = nil) {
        source = DispatchSource.makeTimerSource(queue: queue)
        source.schedule(deadline: .now() + (delay ?? min(interval, 0.2)), repeating: interval)
    }

    func setHandler(_ body: @escaping @Sendable () -> Void) { source.setEventHandler(handler: body) }
    func resume() {
        if !resumed.exchange(true, ordering: .relaxed) { source.resume() }
    }

    func cancel() { source.cancel() }

    /// Runs `body` on the timer's queue: after a handler that is running.
    func sync(_ body: () -> Void) { queue.sync(execute: body) }

    /// Dispatch traps when a source is released while suspended: a timer
    /// that never started is started (already cancelled, it never fires).
    deinit {
        source.cancel()
        if !resumed.exchange(true, ordering: .relaxed) { source.resume() }
    }
}
