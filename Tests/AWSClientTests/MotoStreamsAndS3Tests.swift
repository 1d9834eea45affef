import AWSClient
import DynamoModel
import XCTest

final class MotoStreamsAndS3Tests: XCTestCase {
    func testStream_listsDescribesAndReadsInsertModifyRemove() throws {
        let url = try MotoEnvironment.endpoint()
        let db = try MotoDynamoDBTests.dynamo(url)
        let streams = DynamoDBStreamsClient(
            endpoint: Endpoint(url: url, region: "us-east-1", service: .dynamodbStreams, isCustom: true),
            credentials: MotoDynamoDBTests.credentials, transport: CurlHTTPClient())
        let name = MotoEnvironment.uniqueName("stream")
        _ = try db.createTable(MotoDynamoDBTests.table(name))
        defer { try? db.deleteTable(name) }

        try db.putItem(table: name, item: MotoDynamoDBTests.everyType(pk: "a", sk: 1))
        try db.putItem(table: name, item: ["pk": .s("a"), "sk": .n("1"), "email": .s("changed@example.com")])
        try db.deleteItem(table: name, key: ["pk": .s("a"), "sk": .n("1")])

        let listed = try streams.listStreams(table: name)
        XCTAssertEqual(listed.count, 1)
        let arn = try XCTUnwrap(listed.first?.streamArn)
        let description = try streams.describeStreamFully(arn: arn)
        XCTAssertEqual(description.streamViewType, .newAndOldImages)
        XCTAssertEqual(description.keySchema.map(\.attributeName), ["pk", "sk"])
        let shard = try XCTUnwrap(description.shards.first)

        let iterator = try streams.getShardIterator(arn: arn, shardId: shard.shardId, position: .trimHorizon)
        let page = try streams.getRecords(iterator: iterator, limit: 1000)
        XCTAssertEqual(page.records.map(\.eventName), ["INSERT", "MODIFY", "REMOVE"])
        let insert = page.records[0]
        let newImage = try XCTUnwrap(insert.newImage).readItem()
        XCTAssertTrue(newImage.semanticallyEquals(MotoDynamoDBTests.everyType(pk: "a", sk: 1)), "\(newImage.diff(MotoDynamoDBTests.everyType(pk: "a", sk: 1)))")
        XCTAssertEqual(try page.records[2].keys.readItem(), ["pk": .s("a"), "sk": .n("1")])
        XCTAssertNil(page.records[2].newImage)
        XCTAssertNotNil(page.records[2].oldImage)
        // Sequence numbers rise.
        let seqs = page.records.compactMap { Decimal(string: $0.sequenceNumber) }
        XCTAssertEqual(seqs, seqs.sorted())
        XCTAssertNotNil(page.nextShardIterator, "an open shard keeps giving iterators")

        let after = try streams.getShardIterator(arn: arn, shardId: shard.shardId,
                                                 position: .afterSequenceNumber(page.records[1].sequenceNumber))
        XCTAssertEqual(try streams.getRecords(iterator: after).records.map(\.eventName), ["REMOVE"])
    }

    func testS3_putListAndStreamAnObject() throws {
        let url = try MotoEnvironment.endpoint()
        let s3 = S3Client(endpoint: Endpoint(url: url, region: "eu-west-1", service: .s3, isCustom: true),
                          credentials: MotoDynamoDBTests.credentials, transport: CurlHTTPClient())
        let bucket = MotoEnvironment.uniqueName("ferry-bucket")
        try s3.createBucket(bucket)
        let big = (0..<3_000_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        try s3.putObject(bucket: bucket, key: "exports/AWSDynamoDB/01/data/part 1+x.json.gz", body: big)
        try s3.putObject(bucket: bucket, key: "exports/AWSDynamoDB/01/manifest-summary.json", body: Array("{}".utf8))
        try s3.putObject(bucket: bucket, key: "other/file", body: [1])

        let listed = try s3.listObjects(bucket: bucket, prefix: "exports/")
        XCTAssertEqual(listed.map(\.key).sorted(), ["exports/AWSDynamoDB/01/data/part 1+x.json.gz",
                                                   "exports/AWSDynamoDB/01/manifest-summary.json"])
        XCTAssertEqual(listed.first { $0.key.hasSuffix(".gz") }?.size, big.count)

        var received: [UInt8] = []
        var chunks = 0
        try s3.getObject(bucket: bucket, key: "exports/AWSDynamoDB/01/data/part 1+x.json.gz") { chunk in
            received.append(contentsOf: chunk)
            chunks += 1
        }
        XCTAssertEqual(received, big)
        XCTAssertGreaterThan(chunks, 1)

        XCTAssertThrowsError(try s3.getObjectBytes(bucket: bucket, key: "missing.json")) { error in
            XCTAssertEqual((error as? AWSClientError)?.serviceError?.code, "NoSuchKey")
            XCTAssertTrue("\(error)".contains("s3://\(bucket)/missing.json"), "\(error)")
        }
    }
}
