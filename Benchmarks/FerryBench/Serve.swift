import DynamoModel
import Foundation
import StreamStandIn

/// The loopback source and sink, in a child process so that the parent
/// measures Ferry's own CPU time and memory only.
///
/// `serve`: a stream backlog of `--records` records of `--item-bytes` over
/// `--shards` shards. `serve-steady`: records appended in real time at
/// `--rate` per second, each item carrying its creation time in
/// microseconds (attribute `t`) for the lag measurement.
/// Prints `READY <source url> <stream arn> <sink url>`, then serves until
/// its standard input closes.
func runServe(steady: Bool) {
    serveChild(view: steady ? .newImage : .newAndOldImages) { source, shardIDs in
        if !steady {
            let records = option("--records").flatMap(Int.init) ?? 400_000
            let itemBytes = option("--item-bytes").flatMap(Int.init) ?? 1024
            for (i, shard) in shardIDs.enumerated() where records > 0 {
                try source.appendSynthetic(shard: shard, count: records / shardIDs.count, itemBytes: itemBytes,
                                           pattern: StandInSyntheticPattern(keyCount: 5_000, removeEvery: 10, keyPrefix: "s\(i)-"))
            }
        }
        return {
            guard steady else { return }
            let rate = option("--rate").flatMap(Int.init) ?? 2000
            let seconds = option("--seconds").flatMap(Double.init) ?? 20
            let tickRecords = max(1, rate / 100)  // every 10 ms
            let filler = String(repeating: "x", count: 900)
            let start = Date()
            var n = 0
            while Date().timeIntervalSince(start) < seconds {
                let now = Int(Date().timeIntervalSince1970 * 1_000_000)
                for j in 0..<tickRecords {
                    let shard = shardIDs[(n + j) % shardIDs.count]
                    let item: Item = ["pk": .s("k\((n + j) % 5000)"), "t": .n(String(now)), "pad": .s(filler)]
                    _ = try source.append(shard: shard, [.insert(item)])
                }
                n += tickRecords
                let next = start.addingTimeInterval(Double(n / tickRecords) * 0.01)
                let wait = next.timeIntervalSinceNow
                if wait > 0 { Thread.sleep(forTimeInterval: wait) }
            }
            print("DONE \(n)")
            fflush(nil)
        }
    }
}

/// The child process's frame: a source with `--shards` shards and a sink,
/// `prepare` before `READY <source url> <stream arn> <sink url>` is printed,
/// then what `prepare` returned, then serving until standard input closes
/// (the body may read standard input itself).
func serveChild(view: StandInStreamView,
                _ prepare: (StreamStandIn, [String]) throws -> () throws -> Void) -> Never {
    let shards = option("--shards").flatMap(Int.init) ?? 4
    do {
        let source = try StreamStandIn(configuration: .benchmarkSource)
        let sink = try StreamStandIn(configuration: .benchmarkSink)
        guard let arn = try source.createTable(StandInTableSpec("bench-source", stream: view, shardCount: shards)) else {
            fatalError("no stream")
        }
        _ = try sink.createTable(StandInTableSpec("bench-target", stream: nil))
        let body = try prepare(source, try source.openShardIDs(table: "bench-source"))
        print("READY \(source.baseURL) \(arn) \(sink.baseURL)")
        fflush(nil)
        try body()
        while readLine() != nil {}
        source.stop()
        sink.stop()
        exit(0)
    } catch {
        print("FAILED \(error)")
        exit(1)
    }
}
