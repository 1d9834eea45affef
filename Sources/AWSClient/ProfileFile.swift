import Foundation

/// One parsed AWS shared configuration file (`~/.aws/credentials` or
/// `~/.aws/config`), read the way the AWS CLI reads it.
///
/// - Sections are `[name]`. In the config file a profile is `[profile name]`
///   except `[default]`; other config sections (`[sso-session x]`,
///   `[services x]`, a bare `[name]`) are not profiles and are skipped. If
///   both `[default]` and `[profile default]` appear, `[profile default]` wins.
/// - Lines starting with `#` or `;` are comments, and so is the rest of a
///   line after whitespace followed by `#` or `;`.
/// - `key = value`: whitespace around both is trimmed, keys are
///   lower-cased. A line indented deeper than its property continues that
///   property's value (nested settings such as `s3 =` sub-keys), joined with a newline.
/// - A section that appears twice is merged; later values win.
public struct ProfileFile: Sendable, Equatable {
    /// Which file this is; only the config file uses `[profile name]`.
    public enum Kind: Sendable, Equatable {
        case credentials
        case config
    }

    /// Profile name → (lower-cased key → value).
    public private(set) var profiles: [String: [String: String]]

    public init(profiles: [String: [String: String]] = [:]) {
        self.profiles = profiles
    }

    /// The profile's settings, or nil when the file has no such profile.
    public func profile(_ name: String) -> [String: String]? { profiles[name] }

    /// One setting of one profile; `key` is compared case-insensitively.
    public func value(_ key: String, profile name: String) -> String? { profiles[name]?[key.lowercased()] }

    /// Reads and parses the file at `path`; nil when there is no file.
    public static func load(path: String, kind: Kind) throws(CredentialError) -> ProfileFile? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CredentialError(.fileUnreadable, provider: "profile", message: "cannot read \(path)")
        }
        return ProfileFile(parsing: String(decoding: data, as: UTF8.self), kind: kind)
    }

    public init(parsing text: String, kind: Kind) {
        var plainDefault: [String: String] = [:]
        var profiles: [String: [String: String]] = [:]
        var hasPrefixedDefault = false
        var sawPlainDefault = false

        // Where the properties being read go.
        enum Target { case profile(String), plainDefault, skipped }
        var target = Target.skipped
        var current: (key: String, indent: Int)? = nil

        func store(_ key: String, _ value: String, append: Bool) {
            func apply(_ dict: inout [String: String]) {
                if append, let old = dict[key] { dict[key] = old.isEmpty ? value : old + "\n" + value } else { dict[key] = value }
            }
            switch target {
            case .profile(let name): apply(&profiles[name, default: [:]])
            case .plainDefault: apply(&plainDefault)
            case .skipped: break
            }
        }

        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }) {
            let indent = rawLine.prefix { $0 == " " || $0 == "\t" }.count
            let line = Self.stripComment(rawLine).trimmingCharacters(in: .whitespaces)
            if line.isEmpty { continue }

            if let property = current, indent > property.indent, indent > 0 {
                store(property.key, line, append: true)
                continue
            }

            if line.hasPrefix("[") {
                current = nil
                guard let close = line.firstIndex(of: "]") else { target = .skipped; continue }
                let section = line[line.index(after: line.startIndex)..<close].trimmingCharacters(in: .whitespaces)
                switch kind {
                case .credentials:
                    target = section.isEmpty ? .skipped : .profile(section)
                case .config:
                    if section == "default" {
                        sawPlainDefault = true
                        target = .plainDefault
                    } else if let name = Self.prefixedProfileName(section) {
                        if name == "default" { hasPrefixedDefault = true }
                        target = .profile(name)
                    } else {
                        target = .skipped
                    }
                }
                if case .profile(let name) = target, profiles[name] == nil { profiles[name] = [:] }
                continue
            }

            guard let equals = line.firstIndex(of: "=") else { current = nil; continue }
            let key = line[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            let value = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            if key.isEmpty { current = nil; continue }
            store(key, value, append: false)
            current = (key, indent)
        }

        if sawPlainDefault, !hasPrefixedDefault { profiles["default"] = plainDefault }
        self.profiles = profiles
    }

    /// `profile  name` → `name`; nil for sections that are not profiles.
    private static func prefixedProfileName(_ section: String) -> String? {
        guard section.hasPrefix("profile"),
              let separator = section.dropFirst("profile".count).first, separator == " " || separator == "\t" else { return nil }
        let name = section.dropFirst("profile".count).trimmingCharacters(in: .whitespaces)
        return name.isEmpty ? nil : name
    }

    /// The line without its comment: a line starting with `#` or `;`, or the
    /// rest after whitespace followed by `#` or `;`.
    private static func stripComment(_ line: Substring) -> Substring {
        var previousIsSpace = true
        for index in line.indices {
            let character = line[index]
            if (character == "#" || character == ";") && previousIsSpace { return line[..<index] }
            previousIsSpace = character == " " || character == "\t"
        }
        return line
    }
}
