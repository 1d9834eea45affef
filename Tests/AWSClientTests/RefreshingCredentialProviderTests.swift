import XCTest
@testable import AWSClient

final class RefreshingCredentialProviderTests: XCTestCase {
    let clock = TestClock()

    func expiring(_ keyId: String, in seconds: TimeInterval) -> Credentials {
        Credentials(accessKeyId: keyId, secretAccessKey: "s", sessionToken: "t", expiration: clock.now.addingTimeInterval(seconds))
    }

    func testCredentialsWithoutExpiration_areFetchedOnce() throws {
        let base = FakeCredentialProvider("static", .credentials(Credentials(accessKeyId: "A", secretAccessKey: "s")))
        let provider = RefreshingCredentialProvider(base, clock: clock.closure)
        for _ in 0..<3 { XCTAssertEqual(try provider.credentials()?.accessKeyId, "A") }
        clock.advance(365 * 86_400)
        XCTAssertEqual(try provider.credentials()?.accessKeyId, "A")
        XCTAssertEqual(base.callCount, 1)
        XCTAssertEqual(provider.name, "static")
    }

    func testRefresh_happensWithinFiveMinutesOfExpiration() throws {
        let base = FakeCredentialProvider("imds", .credentials(expiring("OLD", in: 3600)))
        let provider = RefreshingCredentialProvider(base, clock: clock.closure)
        XCTAssertEqual(try provider.credentials()?.accessKeyId, "OLD")

        base.set(.credentials(expiring("NEW", in: 7200)))
        clock.advance(3600 - 300 - 1)
        XCTAssertEqual(try provider.credentials()?.accessKeyId, "OLD")
        XCTAssertEqual(base.callCount, 1)
        clock.advance(1)
        XCTAssertEqual(try provider.credentials()?.accessKeyId, "NEW")
        XCTAssertEqual(base.callCount, 2)
    }

    func testFailedRefresh_keepsValidCredentials_retriesLater_andThrowsOnceExpired() throws {
        let base = FakeCredentialProvider("ecs", .credentials(expiring("OLD", in: 600)))
        let provider = RefreshingCredentialProvider(base, clock: clock.closure)
        _ = try provider.credentials()

        let failure = CredentialError(.transport, provider: "ecs", message: "container endpoint unreachable")
        base.set(.failure(failure))
        clock.advance(400)   // 200 s left: stale but valid
        XCTAssertEqual(try provider.credentials()?.accessKeyId, "OLD")
        XCTAssertEqual(base.callCount, 2)
        clock.advance(5)
        XCTAssertEqual(try provider.credentials()?.accessKeyId, "OLD")
        XCTAssertEqual(base.callCount, 2, "no new attempt within the retry interval")
        clock.advance(6)
        XCTAssertEqual(try provider.credentials()?.accessKeyId, "OLD")
        XCTAssertEqual(base.callCount, 3)

        clock.advance(200)   // expired now
        XCTAssertThrowsError(try provider.credentials()) { XCTAssertEqual($0 as? CredentialError, failure) }
    }

    func testBaseWithNothing_afterExpiry_isNil() throws {
        let base = FakeCredentialProvider("imds", .credentials(expiring("OLD", in: 60)))
        let provider = RefreshingCredentialProvider(base, clock: clock.closure)
        _ = try provider.credentials()
        base.set(.none)
        clock.advance(61)
        XCTAssertNil(try provider.credentials())
    }

    func testInvalidate_forcesAFetch() throws {
        let base = FakeCredentialProvider("static", .credentials(Credentials(accessKeyId: "A", secretAccessKey: "s")))
        let provider = RefreshingCredentialProvider(base, clock: clock.closure)
        _ = try provider.credentials()
        provider.invalidate()
        _ = try provider.credentials()
        XCTAssertEqual(base.callCount, 2)
    }

    func testConcurrentCallers_shareOneFetch() throws {
        let base = FakeCredentialProvider("imds", .credentials(expiring("A", in: 3600)))
        let provider = RefreshingCredentialProvider(base, clock: clock.closure)
        DispatchQueue.concurrentPerform(iterations: 200) { _ in
            XCTAssertEqual(try? provider.credentials()?.accessKeyId, "A")
        }
        XCTAssertEqual(base.callCount, 1)

        clock.advance(3600 - 100)
        base.set(.credentials(expiring("B", in: 3600)))
        DispatchQueue.concurrentPerform(iterations: 200) { _ in
            let keyId = try? provider.credentials()?.accessKeyId
            XCTAssertTrue(keyId == "A" || keyId == "B")
        }
        XCTAssertEqual(base.callCount, 2, "stale credentials are refreshed by one caller")
        XCTAssertEqual(try provider.credentials()?.accessKeyId, "B")
    }
}
