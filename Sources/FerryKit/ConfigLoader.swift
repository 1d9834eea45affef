import Foundation
import Yams

/// What is wrong with the configuration, every problem at once, each naming
/// the setting, where its value came from, and what to change.
public struct ConfigError: Error, Sendable, CustomStringConvertible {
    public var problems: [String]
    public var description: String {
        problems.count == 1 ? "configuration: \(problems[0])"
            : "configuration has \(problems.count) problems:\n" + problems.map { "  - \($0)" }.joined(separator: "\n")
    }
}

/// Builds a ``FerryConfig``: defaults, then the YAML file, then `FERRY_*`
/// environment variables, then flags, each layer beating the one before.
public struct ConfigLoader: Sendable {
    public var environment: [String: String]

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.environment = environment
    }

    /// - Parameters:
    ///   - file: a YAML file, or nil for none.
    ///   - overrides: `(setting, value)` pairs from flags, e.g. `("stream.lanes", "4")`.
    public func load(file: String?, overrides: [(String, String)] = []) throws(ConfigError) -> FerryConfig {
        var config = FerryConfig()
        var problems: [String] = []
        if let file {
            let text: String
            do {
                text = try String(contentsOfFile: file, encoding: .utf8)
            } catch {
                throw ConfigError(problems: ["cannot read the configuration file \(file): \((error as NSError).localizedDescription)"])
            }
            problems += apply(yaml: text, origin: file, to: &config)
        }
        for setting in ConfigSettings.all {
            guard let value = environment[setting.environmentName] else { continue }
            do {
                try setting.apply(&config, value)
            } catch {
                problems.append("\(setting.path) (from \(setting.environmentName)): \(error.message)")
            }
        }
        for (path, value) in overrides {
            guard let setting = ConfigSettings.byPath[path] else {
                problems.append("--set \(path): \(Self.unknown(path))")
                continue
            }
            do {
                try setting.apply(&config, value)
            } catch {
                problems.append("\(path) (from the command line): \(error.message)")
            }
        }
        if !problems.isEmpty { throw ConfigError(problems: problems) }
        return config
    }

    /// Applies a YAML document; returns its problems (unknown keys, bad values).
    func apply(yaml: String, origin: String, to config: inout FerryConfig) -> [String] {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch {
            return ["\(origin) is not valid YAML: \(Self.shortYAMLError(error))"]
        }
        guard let root else { return [] }  // an empty file
        guard case .mapping(let mapping) = root else {
            return ["\(origin): the top level must be a mapping of sections (source, target, stream, state, log)"]
        }
        var problems: [String] = []
        walk(mapping, prefix: "", origin: origin, config: &config, problems: &problems)
        return problems
    }

    private func walk(_ mapping: Node.Mapping, prefix: String, origin: String,
                      config: inout FerryConfig, problems: inout [String]) {
        for (keyNode, valueNode) in mapping {
            let key = keyNode.string ?? "?"
            let path = prefix.isEmpty ? key : "\(prefix).\(key)"
            let place = "\(origin):\(keyNode.mark?.line ?? 0)"
            if case .mapping(let nested) = valueNode {
                if ConfigSettings.all.contains(where: { $0.path.hasPrefix(path + ".") }) {
                    walk(nested, prefix: path, origin: origin, config: &config, problems: &problems)
                } else {
                    problems.append("\(place): \(path): \(Self.unknown(path))")
                }
                continue
            }
            guard let setting = ConfigSettings.byPath[path] else {
                problems.append("\(place): \(path): \(Self.unknown(path))")
                continue
            }
            let value: String
            switch valueNode {
            case .scalar(let scalar):
                value = scalar.string
            case .sequence(let sequence):
                value = sequence.compactMap(\.string).joined(separator: ",")
            default:
                problems.append("\(place): \(path): expected a value")
                continue
            }
            do {
                try setting.apply(&config, value)
            } catch {
                problems.append("\(place): \(path): \(error.message)")
            }
        }
    }

    /// "unknown setting", with the closest known name when there is one.
    static func unknown(_ path: String) -> String {
        let best = ConfigSettings.all.map(\.path).min { distance($0, path) < distance($1, path) }
        if let best, distance(best, path) <= 3 {
            return "unknown setting (did you mean \(best)?)"
        }
        return "unknown setting (see deploy/ferry.example.yaml for every setting)"
    }

    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        var row = Array(0...b.count)
        for i in 1...max(a.count, 1) where i <= a.count {
            var previous = row[0]
            row[0] = i
            for j in 1...max(b.count, 1) where j <= b.count {
                let current = row[j]
                row[j] = min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] == b[j - 1] ? 0 : 1))
                previous = current
            }
        }
        return row[b.count]
    }

    static func shortYAMLError(_ error: Error) -> String {
        let text = "\(error)"
        return String(text.split(separator: "\n").first ?? Substring(text))
    }
}

extension FerryConfig {
    /// What a command needs, checked at start with messages that say what to set.
    public enum Requirement: Sendable {
        case source, target, stream
    }

    public func validate(_ requirements: Set<Requirement>) throws(ConfigError) {
        var problems: [String] = []
        if requirements.contains(.source) || requirements.contains(.stream) {
            if source.table == nil && (source.streamArn == nil || !requirements.contains(.stream)) {
                problems.append(requirements.contains(.stream)
                    ? "source.table or source.stream_arn is required (FERRY_SOURCE_TABLE): which table's stream to follow"
                    : "source.table is required (FERRY_SOURCE_TABLE): the DynamoDB table to copy")
            }
            problems += Self.pairProblems(source.credentials, "source")
        }
        if requirements.contains(.target) || requirements.contains(.stream) {
            let dynamo = target.type == .dynamodb
            if target.endpoints.isEmpty && !dynamo {
                problems.append("target.endpoints is required (FERRY_TARGET_ENDPOINTS): the Alternator node URLs, e.g. http://scylla-1:8000")
            }
            if target.table == nil {
                problems.append("target.table is required (FERRY_TARGET_TABLE): the table to write in "
                    + (dynamo ? "DynamoDB" : "Alternator"))
            }
            problems += Self.pairProblems(target.credentials, "target")
            problems += targetTypeProblems
            if let ca = target.caBundle, !FileManager.default.isReadableFile(atPath: ca) {
                problems.append("target.ca_bundle: cannot read \(ca)")
            }
        }
        if requirements.contains(.stream) {
            for (name, path) in [("state.checkpoint", state.checkpoint), ("state.status", state.status),
                                 ("state.dead_letter", state.deadLetter)] {
                let dir = (path as NSString).deletingLastPathComponent
                let directory = dir.isEmpty ? "." : dir
                var isDir: ObjCBool = false
                if !FileManager.default.fileExists(atPath: directory, isDirectory: &isDir) || !isDir.boolValue {
                    problems.append("\(name): directory \(directory) does not exist")
                } else if !FileManager.default.isWritableFile(atPath: directory) {
                    problems.append("\(name): directory \(directory) is not writable")
                }
            }
        }
        if !problems.isEmpty { throw ConfigError(problems: problems) }
    }

    /// Settings that fit one kind of target only.
    var targetTypeProblems: [String] {
        var problems: [String] = []
        switch target.type {
        case .dynamodb:
            if stream.batchSize > 25 {
                problems.append("stream.batch_size is \(stream.batchSize), but a DynamoDB target (target.type: dynamodb) takes "
                    + "at most 25 writes per BatchWriteItem: set stream.batch_size to 25 or less (FERRY_STREAM_BATCH_SIZE)")
            }
            if target.discoverNodes {
                problems.append("target.discover_nodes asks Alternator for its nodes (GET /localnodes); DynamoDB has none: "
                    + "turn it off for target.type: dynamodb")
            }
        case .alternator:
            if target.profile != nil {
                problems.append("target.profile is used only with target.type: dynamodb; Alternator takes "
                    + "target.access_key_id and target.secret_access_key, or nothing")
            }
        }
        return problems
    }

    static func pairProblems(_ pair: KeyPair, _ side: String) -> [String] {
        if pair.accessKeyId != nil && pair.secretAccessKey == nil {
            return ["\(side).secret_access_key is missing: \(side).access_key_id is set without it"]
        }
        if pair.accessKeyId == nil && pair.secretAccessKey != nil {
            return ["\(side).access_key_id is missing: \(side).secret_access_key is set without it"]
        }
        return []
    }

    /// The effective configuration for the start-up log, secrets redacted.
    public var redactedSummary: [(String, String)] {
        func secret(_ s: String?) -> String { s == nil ? "-" : "<redacted>" }
        return [
            ("source.table", source.table ?? "-"), ("source.stream_arn", source.streamArn ?? "-"),
            ("source.region", source.region ?? "-"), ("source.endpoint", source.endpoint ?? "default"),
            ("source.access_key_id", source.credentials.accessKeyId ?? "-"),
            ("source.secret_access_key", secret(source.credentials.secretAccessKey)),
            ("source.session_token", secret(source.credentials.sessionToken)),
            ("target.type", target.type.rawValue),
            ("target.endpoints", target.endpoints.isEmpty ? "default" : target.endpoints.joined(separator: ",")),
            ("target.table", target.table ?? "-"), ("target.region", target.region),
            ("target.access_key_id", target.credentials.accessKeyId ?? "-"),
            ("target.secret_access_key", secret(target.credentials.secretAccessKey)),
            ("target.session_token", secret(target.credentials.sessionToken)), ("target.profile", target.profile ?? "-"),
            ("target.max_write_units_per_second", String(target.maxWriteUnitsPerSecond)),
            ("stream.start_position", stream.startPosition.rawValue), ("stream.modify_as", stream.modifyAs.rawValue),
            ("stream.ttl_deletes", stream.ttlDeletes.rawValue), ("stream.lanes", String(stream.lanes)),
            ("stream.readers", String(stream.readers)), ("stream.writers", String(stream.writers)),
            ("stream.max_polls_per_second", String(stream.maxPollsPerSecond)),
            ("stream.batch_size", String(stream.batchSize)), ("state.checkpoint", state.checkpoint),
            ("state.status", state.status), ("state.metrics", state.metrics ?? "-"),
            ("state.metrics_listen", state.metricsListen?.description ?? "-"),
        ]
    }
}
