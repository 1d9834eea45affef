import ArgumentParser

@main
struct Ferry: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ferry",
        abstract: "Move a live DynamoDB table into ScyllaDB Alternator and keep it in sync.",
        discussion: """
            A migration with Ferry: create the target table (create-table), copy the \
            history from an S3 export or a parallel Scan (backfill), apply every later \
            change from the table's DynamoDB Stream (stream), compare both sides \
            (verify), then cut over. `ferry run` does the first three as one daemon.
            """,
        version: FerryVersion.string,
        subcommands: [
            RunCommand.self, CreateTableCommand.self, BackfillCommand.self, StreamCommand.self,
            VerifyCommand.self, StatusCommand.self, HealthCommand.self,
        ])
}

enum FerryVersion {
    static let string = "0.1.0"
}

/// Common options of every command that talks to AWS or Alternator.
struct ConfigOptions: ParsableArguments {
    @Option(name: [.short, .long], help: ArgumentHelp("The YAML configuration file.", valueName: "path"))
    var config: String?
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
