import Foundation
import XCTest

/// Where the moto servers started by scripts/test.sh listen. An integration
/// test without them fails (it never skips): CI must run them.
enum MotoEnvironment {
    static func endpoint(file: StaticString = #filePath, line: UInt = #line) throws -> String {
        try value("FERRY_MOTO_ENDPOINT", file: file, line: line)
    }

    static func authEndpoint(file: StaticString = #filePath, line: UInt = #line) throws -> String {
        try value("FERRY_MOTO_AUTH_ENDPOINT", file: file, line: line)
    }

    private static func value(_ name: String, file: StaticString, line: UInt) throws -> String {
        guard let url = ProcessInfo.processInfo.environment[name], !url.isEmpty else {
            // A thrown error fails the test; it is not a skip.
            throw MissingServer(variable: name)
        }
        return url
    }

    struct MissingServer: Error, CustomStringConvertible {
        let variable: String
        var description: String { "\(variable) is not set: run the tests with scripts/test.sh, which starts moto" }
    }

    /// A name no other test run uses, so tests can share one server.
    static func uniqueName(_ prefix: String) -> String {
        "\(prefix)-\(UUID().uuidString.prefix(8).lowercased())"
    }
}
