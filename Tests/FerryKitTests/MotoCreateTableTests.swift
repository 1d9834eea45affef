import AWSClient
import DynamoModel
@testable import FerryKit
import Foundation
import Logging
import XCTest

final class MotoCreateTableTests: XCTestCase {
    private func config(_ url: String, source: String, target: String) -> FerryConfig {
        var c = FerryConfig()
        c.source.table = source
        c.source.region = "us-east-1"
        c.source.endpoint = url
        c.source.credentials.accessKeyId = "AKIDMOTO"
        c.source.credentials.secretAccessKey = "moto"
        c.target.endpoints = [url]
        c.target.table = target
        c.target.region = "us-west-2"
        return c
    }

    func testStreamsPossibleOff_letsScyllaDBChoose_noTags() throws {
        let url = try MotoStreamTests.motoURL()
        let name = "ct-\(UUID().uuidString.prefix(6))"
        _ = try MotoStreamTests.client(url, region: "us-east-1").createTable(TableDescription(
            tableName: name, keySchema: [KeySchemaElement(attributeName: "pk", keyType: "HASH")],
            attributeDefinitions: [AttributeDefinition(attributeName: "pk", attributeType: "S")]))
        var c = config(url, source: name, target: name + "-copy")
        c.target.streamsPossible = false
        let runner = CreateTableRunner(config: c, services: try Services(config: c, environment: [:]), logger: Logger(label: "test"))
        guard case .created(let made) = try runner.run() else { return XCTFail("expected a new table") }
        XCTAssertEqual(try MotoStreamTests.client(url, region: "us-west-2").listTags(arn: try XCTUnwrap(made.tableArn)), [:])
    }

    func testCreatesKeysIndexesAndBilling_thenSaysItExists() throws {
        let url = try MotoStreamTests.motoURL()
        let name = "ct-\(UUID().uuidString.prefix(6))"
        let source = TableDescription(
            tableName: name,
            keySchema: [KeySchemaElement(attributeName: "pk", keyType: "HASH"), KeySchemaElement(attributeName: "sk", keyType: "RANGE")],
            attributeDefinitions: [AttributeDefinition(attributeName: "pk", attributeType: "S"),
                                   AttributeDefinition(attributeName: "sk", attributeType: "N"),
                                   AttributeDefinition(attributeName: "email", attributeType: "S"),
                                   AttributeDefinition(attributeName: "created", attributeType: "N")],
            billingMode: "PROVISIONED", provisionedThroughput: ProvisionedThroughput(readCapacityUnits: 5, writeCapacityUnits: 7),
            globalSecondaryIndexes: [SecondaryIndex(indexName: "by-email", keySchema: [KeySchemaElement(attributeName: "email", keyType: "HASH")],
                                                    projection: Projection(projectionType: "INCLUDE", nonKeyAttributes: ["name"]),
                                                    provisionedThroughput: ProvisionedThroughput(readCapacityUnits: 1, writeCapacityUnits: 1))],
            localSecondaryIndexes: [SecondaryIndex(indexName: "by-created",
                                                   keySchema: [KeySchemaElement(attributeName: "pk", keyType: "HASH"),
                                                               KeySchemaElement(attributeName: "created", keyType: "RANGE")],
                                                   projection: Projection(projectionType: "KEYS_ONLY"))],
            streamEnabled: true, streamViewType: .newAndOldImages)
        _ = try MotoStreamTests.client(url, region: "us-east-1").createTable(source)

        let c = config(url, source: name, target: name + "-copy")
        let runner = CreateTableRunner(config: c, services: try Services(config: c, environment: [:]), logger: Logger(label: "test"))
        guard case .created = try runner.run() else { return XCTFail("expected a new table") }
        let made = try MotoStreamTests.client(url, region: "us-west-2").describeTable(name + "-copy")
        XCTAssertEqual(made.keySchema, source.keySchema)
        XCTAssertEqual(Set(made.attributeDefinitions.map(\.attributeName)), ["pk", "sk", "email", "created"])
        XCTAssertEqual(made.billingMode, "PROVISIONED")
        XCTAssertEqual(made.provisionedThroughput, ProvisionedThroughput(readCapacityUnits: 5, writeCapacityUnits: 7))
        // On vnodes, so that the way back can enable its stream (tablet tables could not have one).
        let tags = try MotoStreamTests.client(url, region: "us-west-2").listTags(arn: try XCTUnwrap(made.tableArn))
        XCTAssertEqual(tags["system:initial_tablets"], "none")
        XCTAssertEqual(tags["experimental:initial_tablets"], "none")
        XCTAssertEqual(made.globalSecondaryIndexes.map(\.indexName), ["by-email"])
        XCTAssertEqual(made.globalSecondaryIndexes.first?.projection, Projection(projectionType: "INCLUDE", nonKeyAttributes: ["name"]))
        XCTAssertEqual(made.localSecondaryIndexes.map(\.indexName), ["by-created"])
        XCTAssertFalse(made.streamEnabled, "the target gets no stream of its own")

        guard case .alreadyThere = try runner.run() else { return XCTFail("second run must find the table") }
    }

    func testExistingTableWithOtherKeys_showsBoth() throws {
        let url = try MotoStreamTests.motoURL()
        let name = "ct-keys-\(UUID().uuidString.prefix(6))"
        _ = try MotoStreamTests.client(url, region: "us-east-1").createTable(TableDescription(
            tableName: name, keySchema: [KeySchemaElement(attributeName: "pk", keyType: "HASH")],
            attributeDefinitions: [AttributeDefinition(attributeName: "pk", attributeType: "S")]))
        _ = try MotoStreamTests.client(url, region: "us-west-2").createTable(TableDescription(
            tableName: name, keySchema: [KeySchemaElement(attributeName: "id", keyType: "HASH")],
            attributeDefinitions: [AttributeDefinition(attributeName: "id", attributeType: "N")]))
        let c = config(url, source: name, target: name)
        let runner = CreateTableRunner(config: c, services: try Services(config: c, environment: [:]), logger: Logger(label: "test"))
        XCTAssertThrowsError(try runner.run()) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("target has (id HASH N)"), text)
            XCTAssertTrue(text.contains("has (pk HASH S)"), text)
        }
    }
}
