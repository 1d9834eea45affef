import Foundation
import Logging
import Synchronization
import XCTest
@testable import AWSClient

final class TargetNodesTests: XCTestCase {
    /// A node at `url` whose transport answers 200 `{}` while `alive` says so,
    /// and otherwise fails to connect.
    final class Node: Sendable {
        final class Flag: Sendable { let value: Atomic<Bool>; init(_ v: Bool) { value = Atomic(v) } }
        let url: String
        private let isAlive: Flag
        let transport: FakeHTTPTransport

        init(_ url: String, alive: Bool) {
            self.url = url
            let flag = Flag(alive)
            isAlive = flag
            transport = FakeHTTPTransport { request throws(HTTPError) in
                guard flag.value.load(ordering: .relaxed) else {
                    throw HTTPError(kind: .connect, host: SigV4URLParts(request.url).hostHeader, operation: "test", detail: "connection refused")
                }
                return HTTPResponse(status: 200, body: Array(#"{"TableNames":[]}"#.utf8))
            }
        }

        func set(alive: Bool) { isAlive.value.store(alive, ordering: .relaxed) }

        var client: AWSJSONClient {
            AWSJSONClient(endpoint: Endpoint(url: url, region: "us-east-1", service: .dynamodb, isCustom: true),
                          targetPrefix: "DynamoDB_20120810",
                          credentials: StaticCredentialProvider(accessKeyId: "AKID", secretAccessKey: "secret"),
                          transport: transport, retry: RetryPolicy(maxAttempts: 1))
        }
    }

    final class ManualClock: Sendable {
        let seconds = Mutex(100.0)
        func advance(_ by: Double) { seconds.withLock { $0 += by } }
    }

    private func nodes(_ list: [Node], clock: ManualClock) -> TargetNodes {
        TargetNodes(clients: list.map(\.client), setAsideSeconds: 10, now: { clock.seconds.withLock { $0 } },
                    wallClock: { Date(timeIntervalSince1970: clock.seconds.withLock { $0 }) })
    }

    func testADeadFirstNode_theCallMovesOnToTheNextNode_andTheNodeIsSetAside() throws {
        let dead = Node("http://127.0.0.1:1", alive: false), live = Node("http://127.0.0.1:2", alive: true)
        let clock = ManualClock()
        let target = nodes([dead, live], clock: clock)
        XCTAssertEqual(try target.client.listTables(), [])
        XCTAssertEqual(dead.transport.requests.count, 1)
        XCTAssertEqual(live.transport.requests.count, 1)
        XCTAssertEqual(target.states.map(\.up), [false, true])
        XCTAssertEqual(target.states[0].failures, 1)
        XCTAssertTrue(target.states[0].lastError?.contains("connection refused") == true)

        // Set aside: ten more calls all go to the live node.
        for _ in 0..<10 { _ = try target.client.listTables() }
        XCTAssertEqual(dead.transport.requests.count, 1)
        XCTAssertEqual(live.transport.requests.count, 11)
    }

    func testASetAsideNode_isTriedAgainAfterItsTime_andReturnsOnItsFirstSuccess() throws {
        let flaky = Node("http://127.0.0.1:1", alive: false), live = Node("http://127.0.0.1:2", alive: true)
        let clock = ManualClock()
        let target = nodes([flaky, live], clock: clock)
        _ = try target.client.listTables()
        XCTAssertEqual(target.states[0].up, false)
        XCTAssertEqual(target.states[0].since, Date(timeIntervalSince1970: 100))

        clock.advance(11)
        flaky.set(alive: true)
        for _ in 0..<4 { _ = try target.client.listTables() }
        XCTAssertEqual(flaky.transport.requests.count, 3, "one failed request, then its share of four")
        XCTAssertEqual(target.states.map(\.up), [true, true])
        XCTAssertEqual(target.states[0].since, Date(timeIntervalSince1970: 111))
        XCTAssertEqual(target.states[0].failures, 1, "failures are counted, not reset")
    }

    func testEveryNodeDown_theCallFails_afterTryingEachOnce() {
        let a = Node("http://127.0.0.1:1", alive: false), b = Node("http://127.0.0.1:2", alive: false)
        let target = nodes([a, b], clock: ManualClock())
        XCTAssertThrowsError(try target.client.json.attempt("ListTables", body: Array("{}".utf8))) { error in
            XCTAssertTrue("\(error)".contains("connection refused"), "\(error)")
        }
        XCTAssertEqual(a.transport.requests.count + b.transport.requests.count, 2)
        XCTAssertEqual(target.states.map(\.up), [false, false])
        // Both set aside: the next call still tries each once.
        XCTAssertThrowsError(try target.client.json.attempt("ListTables", body: Array("{}".utf8)))
        XCTAssertEqual(a.transport.requests.count + b.transport.requests.count, 4)
    }

    func testAClientError_isTheRequestsFault_notTheNodes() {
        let transport = FakeHTTPTransport { _ throws(HTTPError) in
            HTTPResponse(status: 400, body: Array(#"{"__type":"com.amazonaws.dynamodb.v20120810#ValidationException","message":"bad"}"#.utf8))
        }
        let client = AWSJSONClient(endpoint: Endpoint(url: "http://127.0.0.1:3", region: "us-east-1", service: .dynamodb, isCustom: true),
                                   targetPrefix: "DynamoDB_20120810",
                                   credentials: StaticCredentialProvider(accessKeyId: "AKID", secretAccessKey: "secret"),
                                   transport: transport, retry: RetryPolicy(maxAttempts: 1))
        let other = Node("http://127.0.0.1:4", alive: true)
        let target = TargetNodes(clients: [client, other.client])
        XCTAssertThrowsError(try target.client.json.attempt("PutItem", body: Array("{}".utf8)))
        XCTAssertEqual(other.transport.requests.count, 0, "a 400 is not sent to another node")
        XCTAssertEqual(target.states.map(\.up), [true, true])
    }

    func testReplace_keepsTheStateOfKnownNodes_andShowsNoUserInfo() throws {
        let dead = Node("http://127.0.0.1:1", alive: false), live = Node("http://127.0.0.1:2", alive: true)
        let target = nodes([dead, live], clock: ManualClock())
        _ = try target.client.listTables()
        let added = Node("http://user:pw@127.0.0.1:5/x", alive: true)
        target.replace([live.client, dead.client, added.client])
        XCTAssertEqual(target.states.map(\.url), ["http://127.0.0.1:2", "http://127.0.0.1:1", "http://127.0.0.1:5"])
        XCTAssertEqual(target.states.map(\.up), [true, false, true])
    }
}
