/// Stream sequence numbers as the stand-in keeps them: a `UInt128` inside,
/// a decimal string on the wire (DynamoDB's are up to 40 digits; 39 fit here).
enum SequenceNumberText {
    /// The decimal digits of `value`.
    static func format(_ value: UInt128) -> String {
        String(value)
    }

    /// The value of a decimal string; nil unless it is 1 to 40 ASCII digits.
    /// A 40-digit value beyond `UInt128` saturates at `UInt128.max`, which
    /// still orders it after every number the stand-in hands out.
    static func parse(_ text: String) -> UInt128? {
        let utf8 = text.utf8
        guard !utf8.isEmpty, utf8.count <= 40 else { return nil }
        var value: UInt128 = 0
        var saturated = false
        for byte in utf8 {
            guard byte >= 0x30, byte <= 0x39 else { return nil }
            if saturated { continue }
            let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(UInt128(byte - 0x30))
            if overflow1 || overflow2 {
                saturated = true
                value = .max
            } else {
                value = sum
            }
        }
        return value
    }
}
