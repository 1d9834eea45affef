import AWSClient
import DynamoModel
import LoopbackServer
import Synchronization
@testable import Verify
import XCTest

/// A table served by a tiny fake DynamoDB (Scan of segment 0, BatchGetItem)
/// that leaves keys unprocessed on demand: what moto never does.
final class FakeTable: Sendable {
    let state: FakeTableState
    private let server: LoopbackServer

    init(items: [Item], unprocessedCalls: Int) throws {
        let state = FakeTableState(items: items, unprocessedCalls: unprocessedCalls)
        self.state = state
        server = try LoopbackServer { request in state.handle(request) }
    }

    var batchGets: Int { state.batchGets.withLock { $0 } }
    var url: String { server.baseURL }
    func stop() { server.stop() }

    var client: DynamoDBClient {
        DynamoDBClient(endpoint: Endpoint(url: url, region: "us-east-1", service: .dynamodb, isCustom: true),
                       credentials: StaticCredentialProvider(accessKeyId: "a", secretAccessKey: "b"),
                       transport: CurlHTTPClient(), retry: RetryPolicy(maxAttempts: 1))
    }

}

final class FakeTableState: Sendable {
    let items: [Item]
    /// BatchGetItem calls that answer with every key unprocessed.
    let unprocessedCalls: Mutex<Int>
    let batchGets = Mutex(0)

    init(items: [Item], unprocessedCalls: Int) {
        self.items = items
        self.unprocessedCalls = Mutex(unprocessedCalls)
    }

    private func json(_ item: Item) -> String {
        var w = DynamoJSONWriter()
        w.writeItem(item)
        return String(decoding: w.bytes, as: UTF8.self)
    }

    func handle(_ request: ServerRequest) -> ServerAction {
        let operation = request.header("x-amz-target")?.split(separator: ".").last.map(String.init) ?? ""
        guard let body = try? JSONView(request.body) else { return .json(400, ##"{"__type":"#SerializationException"}"##) }
        switch operation {
        case "Scan":
            let all = body["Segment"]?.intValue ?? 0 == 0 ? items : []
            return .json(200, #"{"Items":["# + all.map(json).joined(separator: ",") + #"],"Count":\#(all.count)}"#)
        case "BatchGetItem":
            batchGets.withLock { $0 += 1 }
            let table = body["RequestItems"]?.members ?? []
            guard let (name, entry) = table.first.map({ ($0.0, $0.1) }) else { return .json(400, "{}") }
            let keys = (try? entry["Keys"]?.elements.map { try $0.readItem() }) ?? []
            let refuse = unprocessedCalls.withLock { left -> Bool in
                guard left > 0 else { return false }
                left -= 1
                return true
            }
            if refuse {
                return .json(200, #"{"Responses":{"\#(name)":[]},"UnprocessedKeys":{"\#(name)":{"Keys":["# + keys.map(json).joined(separator: ",") + "]}}}")
            }
            let found = keys.compactMap { key in items.first { $0["pk"] == key["pk"] } }
            return .json(200, #"{"Responses":{"\#(name)":["# + found.map(json).joined(separator: ",") + #"]},"UnprocessedKeys":{}}"#)
        default:
            return .json(400, ##"{"__type":"#UnknownOperationException"}"##)
        }
    }
}

extension JSONView {
    fileprivate var members: [(String, JSONView)] {
        var out: [(String, JSONView)] = []
        forEachMember { out.append(($0, $1)) }
        return out
    }
}

final class UnprocessedKeysTests: XCTestCase {
    private let noWait = RetryEnvironment(now: { monotonicNow() }, sleep: { _ in true }, random: { 0.5 })

    private func options() -> VerifyOptions {
        var o = VerifyOptions(sourceTable: "src", targetTable: "dst", keySchema: KeySchema(partitionKey: "pk"))
        o.segments = 2
        o.recheckDelay = 0
        o.recheckAttempts = 1
        return o
    }

    func testUnprocessedKeys_areAskedAgain_andNothingIsMissed() throws {
        let items: [Item] = (0..<250).map { ["pk": .s("k\($0)"), "v": .n("\($0)")] }
        let source = try FakeTable(items: items, unprocessedCalls: 1)
        let target = try FakeTable(items: items, unprocessedCalls: 3)
        defer { source.stop(); target.stop() }
        let summary = try Verifier(options: options(), source: source.client, targets: [target.client], sink: MismatchCollector(),
                                   environment: noWait).run()
        XCTAssertEqual(summary.compared, 250)
        XCTAssertEqual(summary.equal, 250)
        XCTAssertEqual(summary.targetItemsChecked, 250)
        XCTAssertEqual(summary.mismatches, 0)
        XCTAssertEqual(target.batchGets, 3 + 3, "three batches of up to 100 keys, three refused once")
        XCTAssertEqual(source.batchGets, 1 + 3, "the extra-item pass looks the target keys up in the source")
    }

    func testKeysThatStayUnprocessed_failTheComparison() throws {
        let items: [Item] = (0..<5).map { ["pk": .s("k\($0)")] }
        let source = try FakeTable(items: items, unprocessedCalls: 0)
        let target = try FakeTable(items: items, unprocessedCalls: 1000)
        defer { source.stop(); target.stop() }
        let verifier = Verifier(options: options(), source: source.client, targets: [target.client], sink: MismatchCollector(),
                                environment: noWait)
        XCTAssertThrowsError(try verifier.run()) { error in
            XCTAssertEqual((error as? VerifyError)?.code, "unprocessed_keys")
            XCTAssertTrue("\(error)".contains("verify.target_reads_per_second"), "\(error)")
        }
    }

    func testStop_endsTheRunIncomplete_withExitStatus2() throws {
        let items: [Item] = (0..<5).map { ["pk": .s("k\($0)"), "v": .n("1")] }
        let source = try FakeTable(items: items, unprocessedCalls: 0)
        let target = try FakeTable(items: items.map { ["pk": $0["pk"]!, "v": .n("2")] }, unprocessedCalls: 0)
        defer { source.stop(); target.stop() }
        let box = Mutex<Verifier?>(nil)
        let verifier = Verifier(options: options(), source: source.client, targets: [target.client], sink: MismatchCollector(),
                                environment: noWait, hooks: VerifyHooks { _ in box.withLock { $0?.stop() } })
        box.withLock { $0 = verifier }
        let summary = try verifier.run()
        XCTAssertFalse(summary.complete)
        XCTAssertEqual(summary.exitCode, VerifySummary.exitFailed)
        box.withLock { $0 = nil }
    }
}

func monotonicNow() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}
