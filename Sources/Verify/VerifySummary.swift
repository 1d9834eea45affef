/// What a verification found, for a person (``render(reportPath:)``) and
/// for the exit status (``exitCode``).
public struct VerifySummary: Sendable, Equatable {
    /// Exit status when source and target agree on everything compared.
    public static let exitInSync: Int32 = 0
    /// Exit status when mismatches remain (after repair, if asked).
    public static let exitMismatches: Int32 = 1
    /// Exit status when the comparison itself failed or was interrupted.
    public static let exitFailed: Int32 = 2

    /// What was compared, e.g. "all items".
    public var scope = ""
    /// Source items (or keys) compared with the target.
    public var compared = 0
    /// Compared items that are the same on both sides (after re-checks).
    public var equal = 0
    /// Differences that went away on a re-check: changes that were still
    /// in flight (being applied by `ferry stream`) at the first read.
    public var resolvedOnRecheck = 0
    public var missingInTarget = 0
    /// Items only the target has (found by the scan of the target, or gone
    /// from the source since the scan of the source).
    public var extraInTarget = 0
    public var different = 0
    /// Mismatches that `--repair` fixed, checked by reading them again.
    public var repaired = 0
    /// Target items whose key was looked up in the source (the extra-item pass).
    public var targetItemsChecked = 0
    /// Wall-clock seconds.
    public var seconds = 0.0
    /// False when the run was stopped before it covered its scope.
    public var complete = true

    public init() {}

    /// Mismatches found, repaired or not.
    public var mismatches: Int { missingInTarget + extraInTarget + different }
    /// Mismatches not repaired.
    public var remaining: Int { mismatches - repaired }

    /// 0 in sync, 1 mismatches remain, 2 the comparison did not finish.
    public var exitCode: Int32 {
        if !complete { return Self.exitFailed }
        return remaining == 0 ? Self.exitInSync : Self.exitMismatches
    }

    /// The closing summary: counts only, never keys or values.
    public func render(source: String, target: String, reportPath: String?) -> String {
        let rate = seconds > 0 ? Double(compared + targetItemsChecked) / seconds : 0
        let rows: [(String, String, String)] = [
            ("items compared", Self.grouped(compared), ""),
            ("equal", Self.grouped(equal),
             resolvedOnRecheck > 0 ? "\(Self.grouped(resolvedOnRecheck)) were in flight and agreed on a re-check" : ""),
            ("missing in target", Self.grouped(missingInTarget), ""),
            ("extra in target", Self.grouped(extraInTarget),
             targetItemsChecked > 0 ? "\(Self.grouped(targetItemsChecked)) target items looked up in the source" : ""),
            ("different", Self.grouped(different), ""),
            ("repaired", Self.grouped(repaired), ""),
        ]
        let nameWidth = rows.map(\.0.count).max() ?? 0
        let numberWidth = rows.map(\.1.count).max() ?? 0
        var text = "ferry verify: \(source) (source) against \(target) (target), \(scope)\n"
        for (name, number, note) in rows {
            text += "  " + name + String(repeating: " ", count: nameWidth - name.count + 2)
                + String(repeating: " ", count: numberWidth - number.count) + number
                + (note.isEmpty ? "" : "  (\(note))") + "\n"
        }
        text += "  duration" + String(repeating: " ", count: nameWidth - 8 + 2) + Self.seconds(seconds)
            + (rate > 0 ? "  (\(Self.grouped(Int(rate))) items/s)" : "") + "\n"
        let report = reportPath.map { " (listed in \($0))" } ?? ""
        switch exitCode {
        case Self.exitInSync:
            text += mismatches == 0 ? "result: in sync\n" : "result: in sync after repairing \(Self.grouped(repaired)) items\(report)\n"
        case Self.exitMismatches:
            text += "result: NOT in sync: \(Self.grouped(remaining)) mismatches remain\(report)\n"
        default:
            text += "result: incomplete: the comparison was stopped before it covered \(scope)\n"
        }
        return text
    }

    static func grouped(_ n: Int) -> String {
        let digits = String(n.magnitude)
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return (n < 0 ? "-" : "") + out
    }

    static func seconds(_ s: Double) -> String {
        if s < 60 {
            let tenths = Int((s * 10).rounded())
            return "\(tenths / 10).\(tenths % 10) s"
        }
        let whole = Int(s)
        return whole >= 3600 ? "\(whole / 3600) h \(whole % 3600 / 60) min" : "\(whole / 60) min \(whole % 60) s"
    }
}
