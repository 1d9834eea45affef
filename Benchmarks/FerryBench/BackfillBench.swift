import AWSClient
import Backfill
import DynamoModel
import FerryKit
import Foundation
import Logging
import Replication

/// Backfills a local export of `--items` items of about 400 bytes into the
/// loopback sink, then loads part of it the way the usual script does
/// (gunzip each file in memory, one PutItem per line, Python boto3).
func runBackfillBenchmark() {
    let count = option("--items").flatMap(Int.init) ?? 1_000_000
    let scriptItems = option("--script-items").flatMap(Int.init) ?? 2000
    let rich = option("--corpus") == "rich"
    let exportDir = NSTemporaryDirectory() + "ferry-bench-export-\(rich ? "rich-" : "")\(count)"
    let exportRoot = exportDir + "/AWSDynamoDB/01700000000000-bench001"
    if !FileManager.default.fileExists(atPath: exportRoot + "/manifest-summary.json") {
        print("writing a local export of \(count) items to \(exportDir) (once)…")
        let writer = try! ExportWriter(directory: exportDir, exportId: "01700000000000-bench001", itemsPerFile: 100_000)
        var bytes = 0
        for i in 0..<count {
            var item = rich ? Corpus.richItem(i) : Corpus.item(i)
            if !rich {
                item["pk"] = .s("item#\(i)")
                item["deleted"] = nil
            }
            var w = DynamoJSONWriter(capacity: 512)
            w.writeItem(item)
            try! writer.add(item: w.bytes)
            bytes += w.bytes.count
        }
        try! writer.finish()
        print("  \(bytes / max(1, count)) bytes of DynamoDB JSON per item on average")
        fflush(nil)
    }
    let servers = LoopbackServers.start(["serve", "--records", "0", "--shards", "1"])
    let dir = NSTemporaryDirectory() + "ferry-bench-backfill-\(getpid())"
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    var config = FerryConfig()
    config.source.region = "us-east-1"
    config.source.table = "bench-source"
    config.target.endpoints = [servers.sinkURL, servers.sinkURL]
    config.target.table = "bench-target"
    config.state.backfill = dir + "/backfill.json"
    config.state.deadLetter = dir + "/dead.jsonl"
    config.stream.batchSize = 100
    config.stream.lanes = 8
    config.backfill.parallelFiles = 2
    let services = try! Services(config: config, environment: [:])
    let backfill = try! ExportBackfill(config: config, services: services, logger: Logger(label: "bench"), locations: [exportRoot])
    print("backfill benchmark: \(count) \(rich ? "rich items (10 to 50 attributes of every type)" : "items") of ~400 bytes from a local export into the loopback sink; release build")
    let cpu0 = cpuSecondsSelf(), wall0 = Date()
    let summary = try! backfill.run(keySchema: KeySchema(partitionKey: "pk"))
    let wall = Date().timeIntervalSince(wall0), cpu = cpuSecondsSelf() - cpu0
    print(String(format: "ferry:          %9.0f items/s  %6.2f µs CPU/item  peak memory %.0f MB  (%d items in %.2f s, complete: %@)",
                 Double(summary.items) / wall, cpu * 1e6 / Double(summary.items), Clock.peakRSSMegabytes(), summary.items, wall,
                 summary.complete ? "yes" : "no"))
    let perCPU = Double(summary.items) / cpu

    let (fields, text) = runComparisonScript("export_script_style.py", [exportRoot, servers.sinkURL, String(scriptItems)])
    servers.stop()
    guard let rate = fields["items_per_s"], let cpuPer = fields["cpu_us_per_item"] else {
        print("script failed: \(text)")
        return
    }
    print(String(format: "usual script:   %9.0f items/s  %6.2f µs CPU/item  peak memory %.0f MB  (python3 + boto3, gunzip in memory, one PutItem per line, %d items)",
                 rate, cpuPer, fields["peak_mb"] ?? 0, scriptItems))
    print(String(format: "per core: ferry writes %.0f items per CPU-second, the script %.0f: %.0fx", perCPU, 1e6 / cpuPer, perCPU / (1e6 / cpuPer)))
}
