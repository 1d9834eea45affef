import FerryKit
import Foundation
import XCTest

/// A test case with a fresh temporary directory for state files, removed
/// afterwards, and the configuration the moto tests share.
class TemporaryDirectoryTestCase: XCTestCase {
    var dir: String!

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "ferry-\(String(describing: type(of: self)))-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    /// Source `table` in us-east-1 and target `table` in us-west-2 of the
    /// moto server at `url` (the target stands in for Alternator).
    func motoConfig(_ url: String, table: String) -> FerryConfig {
        var c = FerryConfig()
        c.source.table = table
        c.source.region = "us-east-1"
        c.source.endpoint = url
        c.source.credentials.accessKeyId = "AKIDMOTO"
        c.source.credentials.secretAccessKey = "moto"
        c.target.endpoints = [url]
        c.target.table = table
        c.target.region = "us-west-2"
        return c
    }
}

/// Whether `condition` comes true within `seconds`, asked every 0.25 s (for
/// tests that watch a daemon process from outside).
func eventually(_ seconds: Double, _ condition: () throws -> Bool) rethrows -> Bool {
    let end = Date().addingTimeInterval(seconds)
    while Date() < end {
        if try condition() { return true }
        Thread.sleep(forTimeInterval: 0.25)
    }
    return try condition()
}
