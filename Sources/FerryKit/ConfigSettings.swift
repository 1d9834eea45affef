/// Every setting by its dotted name: `stream.batch_size` in YAML is
/// `FERRY_STREAM_BATCH_SIZE` in the environment and `--set
/// stream.batch_size=50` on the command line. One parser per setting serves
/// all three layers.
struct ConfigSetting: Sendable {
    let path: String
    let secret: Bool
    let apply: @Sendable (inout FerryConfig, String) throws(ConfigValueError) -> Void

    var environmentName: String {
        "FERRY_" + path.uppercased().replacingOccurrences(of: ".", with: "_")
    }
}

/// A value that does not fit its setting; the loader adds where it came from.
struct ConfigValueError: Error {
    let message: String
}

enum ConfigSettings {
    static let all: [ConfigSetting] = [
        text("source.table") { $0.source.table = $1 },
        text("source.stream_arn") { $0.source.streamArn = $1 },
        text("source.region") { $0.source.region = $1 },
        url("source.endpoint") { $0.source.endpoint = $1 },
        url("source.streams_endpoint") { $0.source.streamsEndpoint = $1 },
        url("source.s3_endpoint") { $0.source.s3Endpoint = $1 },
        text("source.access_key_id") { $0.source.credentials.accessKeyId = $1 },
        text("source.secret_access_key", secret: true) { $0.source.credentials.secretAccessKey = $1 },
        text("source.session_token", secret: true) { $0.source.credentials.sessionToken = $1 },
        text("source.profile") { $0.source.profile = $1 },
        ConfigSetting(path: "source.endpoints", secret: false) { config, value throws(ConfigValueError) in
            let list = value.split(separator: ",").map { String($0).trimmingWhitespace }.filter { !$0.isEmpty }
            for endpoint in list { try checkURL(endpoint) }
            config.source.endpoints = list
        },

        ConfigSetting(path: "target.endpoints", secret: false) { config, value throws(ConfigValueError) in
            let list = value.split(separator: ",").map { String($0).trimmingWhitespace }.filter { !$0.isEmpty }
            for endpoint in list { try checkURL(endpoint) }
            config.target.endpoints = list
        },
        choice("target.type", FerryConfig.TargetType.self) { $0.target.type = $1 },
        text("target.table") { $0.target.table = $1 },
        required("target.region") { $0.target.region = $1 },
        text("target.access_key_id") { $0.target.credentials.accessKeyId = $1 },
        text("target.secret_access_key", secret: true) { $0.target.credentials.secretAccessKey = $1 },
        text("target.session_token", secret: true) { $0.target.credentials.sessionToken = $1 },
        text("target.profile") { $0.target.profile = $1 },
        number("target.max_write_units_per_second", 0...100_000_000) { $0.target.maxWriteUnitsPerSecond = $1 },
        flag("target.discover_nodes") { $0.target.discoverNodes = $1 },
        flag("target.streams_possible") { $0.target.streamsPossible = $1 },
        text("target.ca_bundle") { $0.target.caBundle = $1 },

        choice("coordination.mode", FerryConfig.CoordinationMode.self) { $0.coordination.mode = $1 },
        required("coordination.table") { $0.coordination.table = $1 },
        choice("coordination.store", FerryConfig.CoordinationStore.self) { $0.coordination.store = $1 },
        text("coordination.worker_id") { $0.coordination.workerId = $1 },
        number("coordination.lease_seconds", 6...3600,
               why: "a lease must outlast several renewals (every third of it) and request timeouts (a sixth)") {
            $0.coordination.leaseSeconds = $1
        },
        number("coordination.checkpoints_per_second", 1...1000,
               why: "each worker's checkpoint writes per second, spread over the shards it holds") {
            $0.coordination.checkpointsPerSecond = $1
        },

        choice("stream.start_position", FerryConfig.StartPosition.self) { $0.stream.startPosition = $1 },
        choice("stream.modify_as", FerryConfig.ModifyAs.self) { $0.stream.modifyAs = $1 },
        choice("stream.ttl_deletes", FerryConfig.TTLDeletes.self) { $0.stream.ttlDeletes = $1 },
        flag("stream.skip_trimmed_gaps") { $0.stream.skipTrimmedGaps = $1 },
        number("stream.lanes", 1...4096) { $0.stream.lanes = $1 },
        number("stream.writers", 1...64) { $0.stream.writers = $1 },
        number("stream.readers", 1...64) { $0.stream.readers = $1 },
        number("stream.max_polls_per_second", 1...100_000) { $0.stream.maxPollsPerSecond = $1 },
        number("stream.stall_seconds", 10...86_400) { $0.stream.stallSeconds = $1 },
        number("stream.batch_size", 1...100,
               why: "DynamoDB takes 25 writes per BatchWriteItem, Alternator up to 100") { $0.stream.batchSize = $1 },
        number("stream.linger_ms", 0...10_000) { $0.stream.lingerMilliseconds = $1 },
        number("stream.idle_backoff_max_ms", 10...60_000) { $0.stream.idleBackoffMaxMilliseconds = $1 },
        number("stream.lane_capacity", 100...1_000_000) { $0.stream.laneCapacity = $1 },
        number("stream.drain_deadline_seconds", 1...3600) { $0.stream.drainDeadlineSeconds = $1 },

        number("backfill.segments", 0...100_000) { $0.backfill.segments = $1 },
        number("backfill.items_per_second", 0...100_000_000) { $0.backfill.itemsPerSecond = $1 },
        number("backfill.read_units_per_second", 0...100_000_000) { $0.backfill.readUnitsPerSecond = $1 },
        flag("backfill.consistent_read") { $0.backfill.consistentRead = $1 },
        number("backfill.parallel_files", 1...64) { $0.backfill.parallelFiles = $1 },
        number("backfill.readers", 1...64) { $0.backfill.readers = $1 },

        number("verify.segments", 0...100_000) { $0.verify.segments = $1 },
        number("verify.source_reads_per_second", 0...100_000_000) { $0.verify.sourceReadsPerSecond = $1 },
        number("verify.target_reads_per_second", 0...100_000_000) { $0.verify.targetReadsPerSecond = $1 },
        number("verify.recheck_delay_ms", 0...600_000) { $0.verify.recheckDelayMilliseconds = $1 },
        number("verify.recheck_attempts", 1...100) { $0.verify.recheckAttempts = $1 },
        number("verify.workers", 1...64) { $0.verify.workers = $1 },
        required("verify.report") { $0.verify.report = $1 },
        flag("verify.report_values") { $0.verify.reportValues = $1 },

        required("state.backfill") { $0.state.backfill = $1 },
        required("state.checkpoint") { $0.state.checkpoint = $1 },
        required("state.status") { $0.state.status = $1 },
        required("state.dead_letter") { $0.state.deadLetter = $1 },
        text("state.metrics") { $0.state.metrics = $1 },
        ConfigSetting(path: "state.metrics_listen", secret: false) { config, value throws(ConfigValueError) in
            let trimmed = value.trimmingWhitespace
            guard !trimmed.isEmpty else { config.state.metricsListen = nil; return }
            switch Result(catching: { () throws(MetricsListenAddress.Invalid) in try MetricsListenAddress(parsing: trimmed) }) {
            case .success(let address): config.state.metricsListen = address
            case .failure(let invalid): throw ConfigValueError(message: invalid.message)
            }
        },

        choice("log.level", FerryConfig.LogLevel.self) { $0.log.level = $1 },
        choice("log.format", FerryConfig.LogFormat.self) { $0.log.format = $1 },
    ]

    static let byPath: [String: ConfigSetting] = Dictionary(uniqueKeysWithValues: all.map { ($0.path, $0) })

    // MARK: setting kinds

    private static func text(_ path: String, secret: Bool = false,
                             _ set: @escaping @Sendable (inout FerryConfig, String?) -> Void) -> ConfigSetting {
        ConfigSetting(path: path, secret: secret) { config, value in
            let trimmed = value.trimmingWhitespace
            set(&config, trimmed.isEmpty ? nil : trimmed)
        }
    }

    private static func required(_ path: String, _ set: @escaping @Sendable (inout FerryConfig, String) -> Void) -> ConfigSetting {
        ConfigSetting(path: path, secret: false) { config, value throws(ConfigValueError) in
            let trimmed = value.trimmingWhitespace
            guard !trimmed.isEmpty else { throw ConfigValueError(message: "must not be empty") }
            set(&config, trimmed)
        }
    }

    private static func url(_ path: String, _ set: @escaping @Sendable (inout FerryConfig, String?) -> Void) -> ConfigSetting {
        ConfigSetting(path: path, secret: false) { config, value throws(ConfigValueError) in
            let trimmed = value.trimmingWhitespace
            if !trimmed.isEmpty { try checkURL(trimmed) }
            set(&config, trimmed.isEmpty ? nil : trimmed)
        }
    }

    private static func flag(_ path: String, _ set: @escaping @Sendable (inout FerryConfig, Bool) -> Void) -> ConfigSetting {
        ConfigSetting(path: path, secret: false) { config, value throws(ConfigValueError) in
            switch value.trimmingWhitespace.lowercased() {
            case "true", "yes", "on", "1": set(&config, true)
            case "false", "no", "off", "0": set(&config, false)
            default: throw ConfigValueError(message: "'\(value)' is not true or false")
            }
        }
    }

    private static func number(_ path: String, _ range: ClosedRange<Int>, why: String? = nil,
                               _ set: @escaping @Sendable (inout FerryConfig, Int) -> Void) -> ConfigSetting {
        ConfigSetting(path: path, secret: false) { config, value throws(ConfigValueError) in
            guard let n = Int(value.trimmingWhitespace) else {
                throw ConfigValueError(message: "'\(value)' is not a whole number")
            }
            guard range.contains(n) else {
                throw ConfigValueError(message: "\(n) is out of range: use \(range.lowerBound) to \(range.upperBound)"
                    + (why.map { " (\($0))" } ?? ""))
            }
            set(&config, n)
        }
    }

    private static func choice<T: RawRepresentable & CaseIterable & Sendable>(
        _ path: String, _ type: T.Type, _ set: @escaping @Sendable (inout FerryConfig, T) -> Void
    ) -> ConfigSetting where T.RawValue == String {
        ConfigSetting(path: path, secret: false) { config, value throws(ConfigValueError) in
            let normalized = value.trimmingWhitespace.lowercased().replacingOccurrences(of: "_", with: "-")
            guard let v = T.allCases.first(where: { $0.rawValue == normalized }) else {
                throw ConfigValueError(message: "'\(value)' is not one of: \(T.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            set(&config, v)
        }
    }

    static func checkURL(_ value: String) throws(ConfigValueError) {
        let lower = value.lowercased()
        guard lower.hasPrefix("http://") || lower.hasPrefix("https://"), value.count > (lower.hasPrefix("https") ? 8 : 7) else {
            throw ConfigValueError(message: "'\(value)' is not an http:// or https:// URL")
        }
    }
}

extension String {
    var trimmingWhitespace: String {
        var s = Substring(self)
        while let c = s.first, c.isWhitespace { s.removeFirst() }
        while let c = s.last, c.isWhitespace { s.removeLast() }
        return String(s)
    }
}
