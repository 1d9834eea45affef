#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Logging
import Synchronization

/// One line per event on stderr, as logfmt (`level=info msg="…" key=value`)
/// or JSON. Timestamps are left out when journald reads the output (it adds
/// its own). The same message at warning or above is written at most once
/// every 10 seconds, with a count of what was held back.
public struct FerryLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    let label: String
    let format: FerryConfig.LogFormat
    let timestamps: Bool
    let limiter: RateLimiter

    public init(label: String, level: Logger.Level, format: FerryConfig.LogFormat, timestamps: Bool,
                limiter: RateLimiter = .shared) {
        self.label = label
        self.logLevel = level
        self.format = format
        self.timestamps = timestamps
        self.limiter = limiter
    }

    /// Installs the handler for every logger of the process.
    public static func bootstrap(_ config: FerryConfig.Log, environment: [String: String] = ProcessInfo.processInfo.environment) {
        let level = Logger.Level(rawValue: config.level.rawValue) ?? .info
        // journald sets JOURNAL_STREAM for the services it reads.
        let timestamps = environment["JOURNAL_STREAM"] == nil
        LoggingSystem.bootstrap { label in
            FerryLogHandler(label: label, level: level, format: config.format, timestamps: timestamps)
        }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var suppressed = 0
        if event.level >= .warning {
            guard let held = limiter.admit("\(event.message)") else { return }
            suppressed = held
        }
        var fields: [(String, String)] = []
        if timestamps { fields.append(("time", Self.timestamp())) }
        fields.append(("level", event.level.rawValue))
        fields.append(("msg", "\(event.message)"))
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        for (key, value) in merged.sorted(by: { $0.key < $1.key }) { fields.append((key, "\(value)")) }
        if suppressed > 0 { fields.append(("repeated", String(suppressed))) }
        var line = format == .json ? Self.json(fields) : Self.logfmt(fields)
        line += "\n"
        line.withUTF8 { buf in _ = write(2, buf.baseAddress, buf.count) }
    }

    static func logfmt(_ fields: [(String, String)]) -> String {
        fields.map { key, value in
            let needsQuotes = value.isEmpty || value.contains { $0 == " " || $0 == "=" || $0 == "\"" || $0.isNewline }
            if !needsQuotes { return "\(key)=\(value)" }
            let escaped = value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
                .replacingOccurrences(of: "\n", with: "\\n")
            return "\(key)=\"\(escaped)\""
        }.joined(separator: " ")
    }

    static func json(_ fields: [(String, String)]) -> String {
        "{" + fields.map { "\(quote($0.0)):\(quote($0.1))" }.joined(separator: ",") + "}"
    }

    static func quote(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 { out += String(format: "\\u%04x", scalar.value) } else { out.unicodeScalars.append(scalar) }
            }
        }
        return out + "\""
    }

    static func timestamp() -> String {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        var tm = tm()
        var seconds = ts.tv_sec
        gmtime_r(&seconds, &tm)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                      tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1_000_000)
    }
}

/// Lets a repeated message through at most once per interval and counts
/// the copies it held back.
public final class RateLimiter: Sendable {
    public static let shared = RateLimiter(interval: 10)

    private struct Entry { var lastShown: Double; var held: Int }
    private let entries = Mutex<[String: Entry]>([:])
    let interval: Double
    let now: @Sendable () -> Double

    public init(interval: Double, now: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }) {
        self.interval = interval
        self.now = now
    }

    /// nil: hold this one back. Otherwise how many copies were held since
    /// the last one shown.
    public func admit(_ message: String) -> Int? {
        let t = now()
        return entries.withLock { entries in
            if var entry = entries[message], t - entry.lastShown < interval {
                entry.held += 1
                entries[message] = entry
                return nil
            }
            let held = entries[message]?.held ?? 0
            if entries.count > 1000 { entries.removeAll() }
            entries[message] = Entry(lastShown: t, held: 0)
            return held
        }
    }
}
