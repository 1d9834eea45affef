import AWSClient
import Dispatch
import DynamoModel
import Foundation
import Logging
import StreamStandIn
import Verify

/// The two loopback tables of the verify benchmark, in a child process so
/// the parent measures Ferry's own CPU time: a source and a target
/// stand-in loaded with the same `--items` items (``Corpus``). The target's
/// copies are spelled differently where DynamoDB allows it (a number with a
/// trailing zero, a set in another order), so every comparison goes down
/// the semantic path rather than matching bytes.
/// Prints `READY <source url> - <target url>`, then serves until its
/// standard input closes.
func runServeVerify() {
    let count = option("--items").flatMap(Int.init) ?? 400_000
    do {
        var configuration = StandInConfiguration()
        configuration.keepsWriteLog = false
        let source = try StreamStandIn(configuration: configuration)
        let target = try StreamStandIn(configuration: configuration)
        _ = try source.createTable(StandInTableSpec("bench-source", sortKey: "sk", stream: nil))
        _ = try target.createTable(StandInTableSpec("bench-target", sortKey: "sk", stream: nil))
        var start = 0
        while start < count {
            let items = (start..<min(start + 10_000, count)).map(Corpus.item)
            try source.put(table: "bench-source", items: items)
            try target.put(table: "bench-target", items: items.map(respelled))
            start += 10_000
        }
        print("READY \(source.baseURL) - \(target.baseURL)")
        fflush(nil)
        while readLine() != nil {}
        source.stop()
        target.stop()
        exit(0)
    } catch {
        print("FAILED \(error)")
        exit(1)
    }
}

/// The same item as DynamoDB sees it, written another way.
func respelled(_ item: Item) -> Item {
    var copy = item
    if case .n(let text)? = item["total"], text.contains(".") { copy["total"] = .n(text + "0") }
    if case .ss(let tags)? = item["tags"] { copy["tags"] = .ss(tags.reversed()) }
    return copy
}

/// Verifies two loopback tables of `--items` items: items compared per
/// second and CPU time per item, for the compare pass alone and for a full
/// run (compare, then the scan of the target for extra items).
func runVerifyBenchmark() {
    let items = option("--items").flatMap(Int.init) ?? 400_000
    let segments = option("--segments").flatMap(Int.init) ?? 8
    print("verify benchmark: \(items) items of ~400 bytes on each side, \(segments) segments, BatchGetItem of 100 keys; release build")
    let servers = LoopbackServers.start(["serve-verify", "--items", String(items)])
    let credentials = StaticCredentialProvider(accessKeyId: "bench", secretAccessKey: "bench")
    func client(_ url: String) -> DynamoDBClient {
        DynamoDBClient(endpoint: Endpoint(url: url, region: "us-east-1", service: .dynamodb, isCustom: true),
                       credentials: credentials, transport: CurlHTTPClient(options: HTTPClientOptions(maxIdleHandles: 32)))
    }
    let source = client(servers.sourceURL)
    let targets = [client(servers.sinkURL), client(servers.sinkURL)]
    var options = VerifyOptions(sourceTable: "bench-source", targetTable: "bench-target",
                                keySchema: KeySchema(partitionKey: "pk", sortKey: "sk"))
    options.segments = segments

    for checkExtra in [false, true] {
        options.checkExtraItems = checkExtra
        let collector = MismatchCollector()
        let verifier = Verifier(options: options, source: source, targets: targets, sink: collector, logger: Logger(label: "bench") { _ in SwiftLogNoOpLogHandler() })
        let cpu0 = cpuSecondsSelf(), child0 = cpuSeconds(pid: servers.process.processIdentifier), wall0 = Date()
        let summary: VerifySummary
        do {
            summary = try verifier.run()
        } catch {
            print("verify failed: \(error)")
            servers.stop()
            return
        }
        let wall = Date().timeIntervalSince(wall0), cpu = cpuSecondsSelf() - cpu0
        let childCPU = cpuSeconds(pid: servers.process.processIdentifier) - child0
        guard summary.compared == items, summary.equal == items, summary.mismatches == 0 else {
            print("unexpected result: \(summary)")
            servers.stop()
            return
        }
        let label = checkExtra ? "full run (compare + extra-item scan):" : "compare pass only:"
        print(String(format: "%@ %9.0f items compared/s  %6.2f µs CPU/item in ferry, %5.2f in the stand-ins  (%d items in %.2f s, %d target items checked)",
                     label.padding(toLength: 38, withPad: " ", startingAt: 0), Double(items) / wall, cpu * 1e6 / Double(items),
                     childCPU * 1e6 / Double(items), items, wall, summary.targetItemsChecked))
    }
    print(String(format: "peak memory: %.0f MB", Clock.peakRSSMegabytes()))
    servers.stop()
}

/// User and system CPU seconds of process `pid` so far, from /proc (Linux).
func cpuSeconds(pid: Int32) -> Double {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let close = text.lastIndex(of: ")") else { return 0 }
    // Fields after the command name: state is field 3; utime and stime are 14 and 15.
    let fields = text[text.index(after: close)...].split(separator: " ")
    guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
    return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
}
