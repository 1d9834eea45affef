import DynamoModel
import LoopbackServer

/// An error answer on the wire, in DynamoDB's JSON 1.0 form:
/// `{"__type":"<namespace>#<Code>","message":"..."}` with status 400, or
/// 500 for internal errors.
struct ServiceError: Error, Sendable {
    var status: Int
    var code: String
    var message: String

    init(status: Int = 400, _ code: String, _ message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    /// The namespace DynamoDB puts before `#`: Coral's own for the generic
    /// validation, throttling and protocol errors, the service's otherwise.
    static func namespace(of code: String) -> String {
        switch code {
        case "ValidationException": "com.amazon.coral.validate"
        case "ThrottlingException": "com.amazon.coral.availability"
        case "UnknownOperationException", "SerializationException": "com.amazon.coral.service"
        default: "com.amazonaws.dynamodb.v20120810"
        }
    }

    var body: [UInt8] {
        var w = DynamoJSONWriter(capacity: 96 + message.utf8.count)
        w.beginObject()
        w.writeKey("__type"); w.writeString("\(Self.namespace(of: code))#\(code)")
        w.writeKey("message"); w.writeString(message)
        w.endObject()
        return w.bytes
    }

    var action: ServerAction {
        .respond(status: status, headers: StandInResponse.headers, body: body)
    }

    // MARK: - The errors DynamoDB answers with

    static func validation(_ message: String) -> ServiceError {
        ServiceError("ValidationException", message)
    }

    static func notFound(_ message: String = "Requested resource not found") -> ServiceError {
        ServiceError("ResourceNotFoundException", message)
    }

    static func internalError(_ message: String = "Internal server error") -> ServiceError {
        ServiceError(status: 500, "InternalServerError", message)
    }

    static func serialization(_ message: String) -> ServiceError {
        ServiceError("SerializationException", message)
    }
}

/// Headers and framing of successful answers.
enum StandInResponse {
    static let headers: [(name: String, value: String)] = [
        (name: "Content-Type", value: "application/x-amz-json-1.0"),
        (name: "x-amzn-RequestId", value: "STANDIN0000000000000000000000000000000000000000000000"),
    ]

    static func ok(_ body: [UInt8]) -> ServerAction {
        .respond(status: 200, headers: headers, body: body)
    }
}
