#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Synchronization

/// SIGTERM and SIGINT as Dispatch events, so a stop runs ordinary code
/// (draining, checkpointing) instead of being cut short by a handler.
/// `@unchecked`: the sources are created in `init` and only kept alive
/// afterwards; their handlers run on `queue`.
public final class SignalTrap: @unchecked Sendable {
    private let sources: [DispatchSourceSignal]
    private let handler = Mutex<(@Sendable (String) -> Void)?>(nil)
    private static let queue = DispatchQueue(label: "ferry.signals")

    public init(signals: [Int32] = [SIGTERM, SIGINT]) {
        var sources: [DispatchSourceSignal] = []
        for number in signals {
            signal(number, SIG_IGN)  // Dispatch sees it; the default action must not kill us first.
            sources.append(DispatchSource.makeSignalSource(signal: number, queue: Self.queue))
        }
        self.sources = sources
        for (source, number) in zip(sources, signals) {
            let name = number == SIGTERM ? "SIGTERM" : number == SIGINT ? "SIGINT" : "signal \(number)"
            source.setEventHandler { [self] in self.handler.withLock { $0 }?(name) }
            source.resume()
        }
    }

    public func onSignal(_ body: @escaping @Sendable (String) -> Void) {
        handler.withLock { $0 = body }
    }
}

/// Writes straight to file descriptor 2.
public enum FileHandleStderr {
    public static func write(_ text: String) {
        var text = text
        text.withUTF8 { buf in
            var offset = 0
            while offset < buf.count {
                let n = Glibc.write(2, buf.baseAddress! + offset, buf.count - offset)
                if n <= 0 { return }
                offset += n
            }
        }
    }
}
