#if canImport(Glibc)
import Glibc
#endif

/// Wall and CPU time of a block, and the process's peak resident memory.
struct Measurement {
    var name: String
    var items: Int
    var wallSeconds: Double
    var cpuSeconds: Double

    var itemsPerSecond: Double { Double(items) / wallSeconds }
    var cpuNanosPerItem: Double { cpuSeconds * 1e9 / Double(items) }

    var line: String {
        let rate = String(format: "%12.0f", itemsPerSecond)
        let cpu = String(format: "%9.0f", cpuNanosPerItem)
        return "\(name.padding(toLength: 46, withPad: " ", startingAt: 0)) \(rate) items/s \(cpu) ns CPU/item"
    }
}

enum Clock {
    static func wall() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    static func cpu() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    static func peakRSSMegabytes() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_maxrss) / 1024  // ru_maxrss is in KiB on Linux
    }

    /// Minor page faults of this process so far.
    static func minorFaults() -> Int {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return usage.ru_minflt
    }
}

/// Runs `body` (which processes `items` items per call) until at least
/// `minSeconds` have passed, after one warm-up call.
func measure(_ name: String, items: Int, minSeconds: Double = 1.0, _ body: () throws -> Void) rethrows -> Measurement {
    try body()
    var calls = 0
    let wall0 = Clock.wall(), cpu0 = Clock.cpu()
    repeat {
        try body()
        calls += 1
    } while Clock.wall() - wall0 < minSeconds
    return Measurement(name: name, items: items * calls, wallSeconds: Clock.wall() - wall0, cpuSeconds: Clock.cpu() - cpu0)
}
