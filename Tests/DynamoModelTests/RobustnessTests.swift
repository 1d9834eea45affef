import DynamoModel
import XCTest

/// Damaged and random input must be refused or read, never crash: the
/// readers index raw memory, and debug builds check every index.
final class RobustnessTests: XCTestCase {
    private let documents = [
        #"{"pk":{"S":"k\u00e9\ud83c\udf89"},"n":{"N":"-1.5e3"},"b":{"B":"AAE="},"m":{"M":{"l":{"L":[{"NULL":true},{"BOOL":false},{"SS":["a","b"]}]}}},"ns":{"NS":["1"]},"bs":{"BS":["AQ=="]}}"#,
        #"{"eventName":"MODIFY","dynamodb":{"Keys":{"id":{"N":"1"}},"NewImage":{"id":{"N":"1"},"s":{"S":"x\"y"}},"SequenceNumber":"12"},"list":[1,-2.5e-3,true,null,"s"]}"#,
    ]

    /// Runs every reader over `bytes`; only `DynamoJSONError` may come out.
    private func exercise(_ bytes: [UInt8]) {
        _ = try? DynamoJSONReader.readItem(bytes)
        _ = try? DynamoJSONValidator.validateItem(bytes, decoding: ["pk", "id"])
        _ = try? KeySchema(partitionKey: "pk").key(ofItemIn: bytes)
        _ = try? JSONValue.parse(bytes)
        if let view = try? JSONView(bytes) {
            // A view that validated must navigate without trouble.
            view.forEachMember { _, value in
                _ = value.string
                value.forEachMember { _, inner in _ = try? inner.readItem() }
                value.forEachElement { _ = $0.numberText }
            }
            _ = view["dynamodb"]?["NewImage"]?.rawBytes
        }
    }

    func testEveryTruncation_isRefusedCleanly() {
        for document in documents {
            let bytes = utf8(document)
            for length in 0..<bytes.count {
                exercise(Array(bytes[0..<length]))
                XCTAssertThrowsError(try JSONValue.parse(Array(bytes[0..<length])), "length \(length)")
            }
        }
    }

    func testSingleByteDamage_neverCrashes() {
        var random = SplitMix64(seed: 42)
        let replacements: [UInt8] = utf8(#"{}[]":,\ uAZ09+-.eE/=tfn"#) + [0x00, 0x1F, 0x7F, 0x80, 0xC3, 0xED, 0xF4, 0xFF]
        for document in documents {
            let bytes = utf8(document)
            for _ in 0..<2000 {
                var damaged = bytes
                damaged[Int(random.next() % UInt64(bytes.count))] =
                    replacements[Int(random.next() % UInt64(replacements.count))]
                exercise(damaged)
            }
        }
    }

    func testRandomItems_roundTripAndValidate() throws {
        var random = SplitMix64(seed: 7)
        for round in 0..<300 {
            var item = Item()
            for index in 0..<Int(random.next() % 12) {
                item["a\(index)\(round % 3 == 0 ? "é\"" : "")"] = randomValue(&random, depth: 0)
            }
            var writer = DynamoJSONWriter()
            writer.writeItem(item)
            XCTAssertEqual(try DynamoJSONReader.readItem(writer.bytes), item)
            XCTAssertNoThrow(try DynamoJSONValidator.validateItem(writer.bytes))
            XCTAssertEqual(try JSONValue.parse(writer.bytes).serialized().count, writer.bytes.count)
        }
    }

    private func randomValue(_ random: inout SplitMix64, depth: Int) -> AttributeValue {
        let pick = random.next() % (depth > 4 ? 7 : 10)
        let text = randomString(&random)
        switch pick {
        case 0: return .s(text)
        case 1: return .n(["0", "-1.5", "1e-5", "12345678901234567890123456789012345678", "7"][Int(random.next() % 5)])
        case 2: return .b((0..<random.next() % 9).map { _ in UInt8(truncatingIfNeeded: random.next()) })
        case 3: return .bool(random.next() % 2 == 0)
        case 4: return .null
        case 5: return .ss([text, text + "x"])
        case 6: return .bs([[1, 2], []])
        case 7: return .ns(["1", "2.5"])
        case 8: return .l((0..<random.next() % 4).map { _ in randomValue(&random, depth: depth + 1) })
        default:
            var map = Item()
            for index in 0..<random.next() % 4 { map["k\(index)"] = randomValue(&random, depth: depth + 1) }
            return .m(map)
        }
    }

    private func randomString(_ random: inout SplitMix64) -> String {
        let pieces = ["a", "Z", " ", "\"", "\\", "\n", "\u{1}", "é", "日", "🎉", "/", "\u{7F}"]
        return (0..<random.next() % 8).map { _ in pieces[Int(random.next() % UInt64(pieces.count))] }.joined()
    }
}

/// A small deterministic random source, so failures reproduce.
struct SplitMix64 {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
