import DynamoModel

/// Writes that happen only when a condition holds on the item as stored:
/// what a lease table needs, so two workers can never both think they own
/// a shard. A condition that does not hold is an answer (false), not an
/// error; anything else that goes wrong throws.
extension DynamoDBClient {
    /// A condition and the names and values it uses (DynamoDB JSON values).
    public struct Condition: Sendable {
        public var expression: String
        public var names: [String: String]
        public var values: Item

        public init(_ expression: String, names: [String: String] = [:], values: Item = [:]) {
            self.expression = expression
            self.names = names
            self.values = values
        }
    }

    /// PutItem when `condition` holds; false when it did not.
    public func putItem(table: String, item: Item, if condition: Condition) throws(AWSClientError) -> Bool {
        try conditional("PutItem", [("TableName", .string(table)), ("Item", JSONValue(dynamoItem: item))],
                        condition: condition, extraValues: [:], extraNames: [:])
    }

    /// UpdateItem when `condition` holds; false when it did not. The update
    /// and the condition share `names`/`values` namespaces: keep them apart.
    public func updateItem(table: String, key: Item, updateExpression: String, names: [String: String] = [:],
                           values: Item = [:], if condition: Condition) throws(AWSClientError) -> Bool {
        try conditional("UpdateItem", [("TableName", .string(table)), ("Key", JSONValue(dynamoItem: key)),
                                       ("UpdateExpression", .string(updateExpression))],
                        condition: condition, extraValues: values, extraNames: names)
    }

    /// DeleteItem when `condition` holds; false when it did not.
    public func deleteItem(table: String, key: Item, if condition: Condition) throws(AWSClientError) -> Bool {
        try conditional("DeleteItem", [("TableName", .string(table)), ("Key", JSONValue(dynamoItem: key))],
                        condition: condition, extraValues: [:], extraNames: [:])
    }

    private func conditional(_ operation: String, _ members: [(key: String, value: JSONValue)], condition: Condition,
                             extraValues: Item, extraNames: [String: String]) throws(AWSClientError) -> Bool {
        var m = members
        m.append(("ConditionExpression", .string(condition.expression)))
        let names = condition.names.merging(extraNames) { a, _ in a }
        if !names.isEmpty {
            m.append(("ExpressionAttributeNames", .object(names.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })))
        }
        let values = condition.values.merging(extraValues) { a, _ in a }
        if !values.isEmpty { m.append(("ExpressionAttributeValues", JSONValue(dynamoItem: values))) }
        do {
            _ = try json.call(operation, body: JSONValue.object(m).serialized())
            return true
        } catch {
            if error.serviceError?.code == "ConditionalCheckFailedException" { return false }
            throw error
        }
    }
}

extension DynamoDBClient {
    /// TagResource (DynamoDB and Alternator): Alternator reads some table
    /// settings, such as `system:write_isolation`, from tags.
    public func tagResource(arn: String, tags: [String: String]) throws(AWSClientError) {
        let list = JSONValue.array(tags.sorted { $0.key < $1.key }.map { .object([("Key", .string($0.key)), ("Value", .string($0.value))]) })
        _ = try json.call("TagResource", body: JSONValue.object([("ResourceArn", .string(arn)), ("Tags", list)]).serialized())
    }

    /// ListTagsOfResource, every page.
    public func listTags(arn: String) throws(AWSClientError) -> [String: String] {
        var tags: [String: String] = [:]
        var next: String?
        repeat {
            var m: [(key: String, value: JSONValue)] = [("ResourceArn", .string(arn))]
            if let next { m.append(("NextToken", .string(next))) }
            let body = try json.call("ListTagsOfResource", body: JSONValue.object(m).serialized())
            let view = try json.view(body, operation: "ListTagsOfResource")
            for tag in view["Tags"]?.elements ?? [] {
                if let key = tag["Key"]?.string, let value = tag["Value"]?.string { tags[key] = value }
            }
            next = view["NextToken"]?.string
        } while next != nil
        return tags
    }
}
