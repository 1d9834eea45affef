import AWSClient
import Dispatch
import Foundation
import Logging
import Replication
import Synchronization

/// The daemon's start-up checks against the target, while no target node
/// answers: instead of exiting (and leaving a service manager to restart it
/// into the same wall), it retries with backoff and says so in the status
/// file, node by node. Any other failure (a missing table, other keys) is
/// the caller's, at once.
///
/// Backoff: `base * 2^n` seconds, capped at `cap` (1, 2, 4 … 30 s by
/// default), without jitter: one process waits, so nothing to spread.
struct TargetWait: Sendable {
    /// A stop signal came while waiting.
    struct Stopped: Error, CustomStringConvertible {
        var description: String { "stopped while waiting for a target node to answer" }
    }

    let nodes: TargetNodes
    let config: FerryConfig
    let logger: Logger
    var base = 1.0
    var cap = 30.0
    /// Sleeps up to the given seconds; false when told to stop meanwhile.
    let sleep: @Sendable (Double) -> Bool

    /// Runs `body` until it succeeds or fails for a reason other than every
    /// node failing to answer.
    func run<T>(_ what: String, _ body: () throws -> T) throws -> T {
        var attempt = 0
        while true {
            do {
                return try body()
            } catch let error as AWSClientError where Self.noNodeAnswered(error, nodes.states) {
                let delay = min(cap, base * pow(2, Double(min(attempt, 30))))
                attempt += 1
                let message = "no target node answers (\(error)); \(what) again in \(Self.seconds(delay))"
                logger.warning("no target node answers; retrying", metadata: [
                    "check": "\(what)", "retry_in_seconds": "\(Self.seconds(delay))", "error": "\(error)",
                ])
                writeStatus(message)
                guard sleep(delay) else { throw Stopped() }
            }
        }
    }

    /// Every node is set aside and the call failed at the node level.
    static func noNodeAnswered(_ error: AWSClientError, _ states: [TargetNodes.State]) -> Bool {
        var inner = error
        if case .notRetried(let e) = error { inner = e }
        return TargetNodes.isNodeFailure(inner) && states.allSatisfy { !$0.up }
    }

    private func writeStatus(_ message: String) {
        var status = StatusReport(version: FerryBuild.version, pid: getpid(), writtenAt: Date(), phase: .starting)
        status.sourceTable = config.source.table
        status.targetTable = config.target.table
        status.lastError = message
        status.nodes = nodes.states.map(StatusReport.Node.init)
        try? status.write(to: config.state.status)
        if let metrics = config.state.metrics { try? MetricsFile.write(status, to: metrics) }
    }

    static func seconds(_ value: Double) -> String {
        value == value.rounded() ? "\(Int(value)) s" : String(format: "%.1f s", value)
    }
}

/// A sleep that a stop signal cuts short.
final class StoppableSleep: Sendable {
    private let stopped = Atomic<Bool>(false)
    private let wake = DispatchSemaphore(value: 0)

    func stop() {
        stopped.store(true, ordering: .relaxed)
        wake.signal()
    }

    /// False when stopped (before or during the sleep).
    func sleep(_ seconds: Double) -> Bool {
        if stopped.load(ordering: .relaxed) { return false }
        _ = wake.wait(timeout: .now() + seconds)
        return !stopped.load(ordering: .relaxed)
    }
}
