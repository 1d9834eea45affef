import ArgumentParser
import AWSClient
import FerryKit
import Foundation
import Logging

@main
struct Ferry: ParsableCommand {
    static func main() {
        MemoryTuning.apply()
        Self.main(nil)
    }

    static let configuration = CommandConfiguration(
        commandName: "ferry",
        abstract: "Move a live DynamoDB table into ScyllaDB Alternator and keep it in sync.",
        discussion: """
            A migration with Ferry: create the target table (create-table), copy the \
            history from an S3 export or a parallel Scan (backfill), apply every later \
            change from the table's DynamoDB Stream (stream), compare both sides \
            (verify), then switch with a way back (cutover, then stream in reverse). `ferry run` \
            does the first three as one daemon.
            """,
        version: FerryVersion.string,
        subcommands: [
            RunCommand.self, CreateTableCommand.self, BackfillCommand.self, StreamCommand.self,
            VerifyCommand.self, CutoverCommand.self, StatusCommand.self, HealthCommand.self,
        ])
}

enum FerryVersion {
    static let string = FerryBuild.version
}

/// Common options of every command: the configuration file and overrides.
struct ConfigOptions: ParsableArguments {
    @Option(name: [.short, .long], help: ArgumentHelp("The YAML configuration file (or FERRY_CONFIG).", valueName: "path"))
    var config: String?

    @Option(name: .customLong("set"), help: ArgumentHelp(
        "Override one setting, e.g. --set stream.lanes=4 (repeatable; beats the file and FERRY_* variables).",
        valueName: "name=value"))
    var overrides: [String] = []

    /// What every command that talks to AWS or Alternator starts with: the
    /// configuration (validated), logging, the effective settings logged once
    /// with secrets redacted, and the clients. A failure to build the clients
    /// is printed as `ferry <command>: …` and exits with `failureCode`.
    func prepare(_ command: String, _ requirements: Set<FerryConfig.Requirement>,
                 failureCode: Int32 = 1) throws -> (FerryConfig, Services, Logger) {
        let config = try load(requirements)
        FerryLogHandler.bootstrap(config.log)
        let logger = Logger(label: "ferry.\(command)")
        logger.info("starting", metadata: Logger.Metadata(uniqueKeysWithValues: config.redactedSummary.map { ($0.0, .string($0.1)) }))
        do {
            return (config, try Services(config: config), logger)
        } catch {
            FileHandleStderr.write("ferry \(command): \(error)\n")
            throw ExitCode(failureCode)
        }
    }

    /// Loads and validates the configuration, or exits with a message that says what to fix.
    func load(_ requirements: Set<FerryConfig.Requirement>) throws -> FerryConfig {
        try Self.load(file: config, overrides: overrides, requirements)
    }

    /// Loads and validates a configuration file with `--set` overrides.
    static func load(file: String?, overrides: [String], _ requirements: Set<FerryConfig.Requirement>) throws -> FerryConfig {
        var pairs: [(String, String)] = []
        for entry in overrides {
            guard let eq = entry.firstIndex(of: "=") else {
                throw ValidationError("--set takes name=value, got '\(entry)'")
            }
            pairs.append((String(entry[..<eq]), String(entry[entry.index(after: eq)...])))
        }
        let environment = ProcessInfo.processInfo.environment
        do {
            let config = try ConfigLoader(environment: environment)
                .load(file: file ?? environment["FERRY_CONFIG"], overrides: pairs)
            try config.validate(requirements)
            return config
        } catch {
            FileHandleStderr.write("ferry: \(error)\n")
            throw ExitCode(2)
        }
    }
}

/// A subcommand whose implementation lands with a later issue. It says so
/// and exits non-zero, so scripts never mistake it for success.
struct NotYetAvailable: Error, CustomStringConvertible {
    let command: String
    let issue: Int
    var description: String {
        "`ferry \(command)` is not available in this build yet (tracked as issue #\(issue))."
    }
}

func notYet(_ command: String, issue: Int) throws -> Never {
    FileHandleStderr.write("ferry: \(NotYetAvailable(command: command, issue: issue))\n")
    throw ExitCode(3)
}
