import AWSClient
import DynamoModel
import Foundation

// Ferry's benchmarks. Build in release mode; debug numbers mean nothing.
//   swift build -c release --product ferry-bench
//   .build/release/ferry-bench micro [--seconds S]      per-item costs of the hot path, one core
//   .build/release/ferry-bench stream [--records N] [--shards S] [--lambda-records N]
//   .build/release/ferry-bench lag [--rate R] [--seconds T]
//   .build/release/ferry-bench idle [--shards S] [--seconds T]     CPU, threads and memory with idle shards
//   .build/release/ferry-bench leases [--workers W] [--shards S] [--lease-seconds L]   lease mode's cost
//   .build/release/ferry-bench backfill [--items N] [--script-items N] [--corpus rich]
//   .build/release/ferry-bench verify [--items N] [--segments S]
//   (serve, serve-steady and serve-verify are the loopback servers, run as a child process)

let arguments = CommandLine.arguments
func option(_ name: String) -> String? { arguments.firstIndex(of: name).flatMap { $0 + 1 < arguments.count ? arguments[$0 + 1] : nil } }
MemoryTuning.apply()
let mode = arguments.count > 1 && !arguments[1].hasPrefix("--") ? arguments[1] : "micro"
switch mode {
case "micro": runMicro(seconds: option("--seconds").flatMap(Double.init) ?? 1.0)
case "stream": runStreamBenchmark()
case "lag": runLagBenchmark()
case "idle": runIdleBenchmark()
case "leases": runLeaseBenchmark()
case "serve-idle": runServeIdle()
case "backfill": runBackfillBenchmark()
case "verify": runVerifyBenchmark()
case "serve", "serve-steady": runServe(steady: mode == "serve-steady")
case "serve-verify": runServeVerify()
default:
    print("unknown mode \(mode): use micro, stream, lag, idle, leases, backfill or verify")
    exit(2)
}

func runMicro(seconds: Double) {

let corpusSize = 10_000
let raw = Corpus.itemBytes(corpusSize)
let trees = (0..<corpusSize).map(Corpus.item)
let averageBytes = raw.reduce(0) { $0 + $1.count } / raw.count
print("Ferry micro-benchmarks (release build, one thread); items of \(averageBytes) bytes on average, \(corpusSize) distinct items")
print("")

var results: [Measurement] = []
var sink = 0

results.append(measure("read: DynamoJSONReader.readItem (full tree)", items: corpusSize, minSeconds: seconds) {
    for bytes in raw { sink &+= try! DynamoJSONReader.readItem(bytes).count }
})
results.append(measure("read: validate + decode key only (hot path)", items: corpusSize, minSeconds: seconds) {
    for bytes in raw { sink &+= try! DynamoJSONValidator.validateItem(bytes, decoding: ["pk", "sk"]).count }
})
let decoder = JSONDecoder()
let rawData = raw.map { Data($0) }
let foundation = measure("read: Foundation JSONDecoder (Codable)", items: corpusSize, minSeconds: seconds) {
    for data in rawData { sink &+= try! decoder.decode([String: CodableAttribute].self, from: data).count }
}
results.append(foundation)
results.append(measure("read: Foundation JSONSerialization", items: corpusSize, minSeconds: seconds) {
    for data in rawData { sink &+= (try! JSONSerialization.jsonObject(with: data) as! [String: Any]).count }
})

results.append(measure("write: BatchWriteItem bodies from raw items", items: corpusSize, minSeconds: seconds) {
    var i = 0
    while i < corpusSize {
        let writes = raw[i..<min(i + 25, corpusSize)].map { WriteRequest.put(item: $0[...]) }
        sink &+= DynamoDBClient.batchWriteBody(table: "orders", writes: writes).count
        i += 25
    }
})
results.append(measure("write: BatchWriteItem bodies from item trees", items: corpusSize, minSeconds: seconds) {
    var w = DynamoJSONWriter(capacity: 16 * 1024)
    var i = 0
    while i < corpusSize {
        w.reset()
        w.beginObject(); w.writeKey("RequestItems"); w.beginObject(); w.writeKey("orders"); w.beginArray()
        for item in trees[i..<min(i + 25, corpusSize)] {
            w.beginObject(); w.writeKey("PutRequest"); w.beginObject(); w.writeKey("Item"); w.writeItem(item); w.endObject(); w.endObject()
        }
        w.endArray(); w.endObject(); w.endObject()
        sink &+= w.bytes.count
        i += 25
    }
})
let encoder = JSONEncoder()
let foundationWrite = measure("write: Foundation JSONSerialization of trees", items: 1000, minSeconds: seconds) {
    for data in rawData.prefix(1000) {
        let object = try! JSONSerialization.jsonObject(with: data)
        sink &+= try! JSONSerialization.data(withJSONObject: object).count
    }
}
results.append(foundationWrite)
_ = encoder

let batchBody = DynamoDBClient.batchWriteBody(table: "orders", writes: raw.prefix(25).map { .put(item: $0[...]) })
let signer = SigV4Signer(credentials: Credentials(accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
                         region: "us-east-1", service: "dynamodb")
let request = HTTPRequest(method: "POST", url: "https://dynamodb.us-east-1.amazonaws.com/",
                          headers: [("Content-Type", "application/x-amz-json-1.0"), ("X-Amz-Target", "DynamoDB_20120810.BatchWriteItem")],
                          body: batchBody)
let date = Date()
let signing = measure("sign: SigV4 of a 25-item BatchWriteItem (\(batchBody.count / 1024) KiB)", items: 1000, minSeconds: seconds) {
    for _ in 0..<1000 { sink &+= signer.sign(request, signingDate: date).headers.count }
}
results.append(signing)
let small = HTTPRequest(method: "POST", url: "https://streams.dynamodb.us-east-1.amazonaws.com/",
                        headers: [("Content-Type", "application/x-amz-json-1.0"), ("X-Amz-Target", "DynamoDBStreams_20120810.GetRecords")],
                        body: Array(#"{"ShardIterator":"arn:aws:dynamodb:us-east-1:123456789012:table/orders/stream/2026-01-01T00:00:00.000|1|AAAAAAAAAAFg","Limit":1000}"#.utf8))
results.append(measure("sign: SigV4 of a GetRecords request", items: 1000, minSeconds: seconds) {
    for _ in 0..<1000 { sink &+= signer.sign(small, signingDate: date).headers.count }
})

for r in results { print(r.line) }
print("")
let reader = results[0], writer = results[4]
print(String(format: "reader vs Foundation JSONDecoder: %.1fx; raw batch writer: %.0f items/s per core; signing: %.0f requests/s",
             reader.itemsPerSecond / foundation.itemsPerSecond, writer.itemsPerSecond / max(1, writer.cpuSeconds / writer.wallSeconds),
             signing.itemsPerSecond))
print(String(format: "peak memory: %.1f MB", Clock.peakRSSMegabytes()))
if sink == 42 { print("") }  // keeps the optimizer from dropping the work
}
