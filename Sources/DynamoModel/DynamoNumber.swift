/// DynamoDB number text: validation and the canonical form used to compare
/// numbers by value.
///
/// Accepted text (what DynamoDB's decimal parser accepts): an optional `+`
/// or `-`, digits with at most one `.` (`1.`, `.5` are fine, at least one
/// digit), and an optional exponent `e`/`E`, optional sign, digits. No
/// spaces, no `Infinity`/`NaN`, no hex.
///
/// Limits, as DynamoDB enforces them: at most 38 significant digits (leading
/// and trailing zeros do not count) and a magnitude of 1E-130 up to
/// 9.99…E+125, positive or negative, or zero.
///
/// Everything works on the decimal digits: a number never goes through
/// `Double`, which would round anything beyond 15–17 digits.
public enum DynamoNumber {
    /// The most significant digits DynamoDB keeps.
    public static let maxSignificantDigits = 38
    /// The exponent of the most significant digit of the largest magnitude (9.99…E+125).
    public static let maxAdjustedExponent = 125
    /// The exponent of the smallest non-zero magnitude (1E-130).
    public static let minAdjustedExponent = -130

    /// The canonical form of a DynamoDB number, or `nil` when `text` is not one.
    ///
    /// The form is `[-]DIGITS[E<exponent>]`, meaning `DIGITS × 10^exponent`,
    /// where `DIGITS` has no leading or trailing zeros; zero is `"0"`. Two
    /// texts have the same canonical form exactly when DynamoDB considers
    /// them the same number:
    ///
    ///     DynamoNumber.normalize("1.50")   // "15E-1"
    ///     DynamoNumber.normalize("1e2")    // "1E2"
    ///     DynamoNumber.normalize("100")    // "1E2"
    ///     DynamoNumber.normalize("-0.0")   // "0"
    ///     DynamoNumber.normalize("12")     // "12"
    ///     DynamoNumber.normalize("1.2.3")  // nil
    public static func normalize(_ text: String) -> String? {
        var text = text
        return text.withUTF8 { utf8 -> String? in
            guard let parts = NumberParts(utf8) else { return nil }
            var out: [UInt8] = []
            out.reserveCapacity(utf8.count + 8)
            parts.appendCanonical(of: utf8, to: &out)
            return String(decoding: out, as: UTF8.self)
        }
    }

    /// Whether `text` is a valid DynamoDB number (syntax and limits).
    public static func isValid(_ text: String) -> Bool {
        var text = text
        return text.withUTF8 { NumberParts($0) != nil }
    }
}

/// The pieces of a parsed number text, as positions into that text, so that
/// validation allocates nothing and the canonical form is written straight
/// into an output buffer.
struct NumberParts {
    var negative: Bool
    /// True when every digit is zero; the other fields are then meaningless.
    var isZero: Bool
    /// Position of the first significant (non-zero) digit in the text.
    var firstDigit: Int
    /// Position one past the last significant digit; a `.` may lie between.
    var endDigit: Int
    /// Number of significant digits (the `.` not counted).
    var digitCount: Int
    /// Power of ten of the last significant digit: value = DIGITS × 10^exponent.
    var exponent: Int

    /// Parses and checks `text`; `nil` if it is not a valid DynamoDB number.
    init?(_ text: UnsafeBufferPointer<UInt8>) {
        let n = text.count
        var i = 0
        negative = false
        if i < n, text[i] == UInt8(ascii: "-") || text[i] == UInt8(ascii: "+") {
            negative = text[i] == UInt8(ascii: "-")
            i += 1
        }
        let intStart = i
        while i < n, text[i] &- 0x30 < 10 { i += 1 }
        let intEnd = i
        var fracStart = i
        var fracEnd = i
        if i < n, text[i] == UInt8(ascii: ".") {
            i += 1
            fracStart = i
            while i < n, text[i] &- 0x30 < 10 { i += 1 }
            fracEnd = i
        }
        guard intEnd > intStart || fracEnd > fracStart else { return nil }
        var e = 0
        if i < n, text[i] | 0x20 == UInt8(ascii: "e") {
            i += 1
            var expNegative = false
            if i < n, text[i] == UInt8(ascii: "-") || text[i] == UInt8(ascii: "+") {
                expNegative = text[i] == UInt8(ascii: "-")
                i += 1
            }
            let expStart = i
            while i < n, text[i] &- 0x30 < 10 {
                // Saturate: anything this large is out of range anyway, and
                // the cap keeps the arithmetic below from overflowing.
                if e < 100_000_000 { e = e * 10 + Int(text[i] &- 0x30) }
                i += 1
            }
            guard i > expStart else { return nil }
            if expNegative { e = -e }
        }
        guard i == n else { return nil }

        // Find the first and last non-zero digit across the integer and
        // fraction parts without copying them.
        var first = -1
        var last = -1
        var j = intStart
        while j < intEnd {
            if text[j] != UInt8(ascii: "0") {
                if first < 0 { first = j }
                last = j
            }
            j += 1
        }
        j = fracStart
        while j < fracEnd {
            if text[j] != UInt8(ascii: "0") {
                if first < 0 { first = j }
                last = j
            }
            j += 1
        }
        guard first >= 0 else {
            isZero = true
            firstDigit = 0
            endDigit = 0
            digitCount = 0
            exponent = 0
            return
        }
        isZero = false
        firstDigit = first
        endDigit = last + 1
        let dotBetween = first < intEnd && last >= fracStart && fracEnd > fracStart
        digitCount = last - first + 1 - (dotBetween ? 1 : 0)
        if last < intEnd {
            exponent = (intEnd - 1 - last) + e
        } else {
            exponent = -(last - fracStart + 1) + e
        }
        guard digitCount <= DynamoNumber.maxSignificantDigits else { return nil }
        let adjusted = exponent + digitCount - 1
        guard adjusted >= DynamoNumber.minAdjustedExponent,
              adjusted <= DynamoNumber.maxAdjustedExponent else { return nil }
    }

    /// Appends the canonical form (see ``DynamoNumber/normalize(_:)``).
    func appendCanonical(of text: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
        if isZero {
            out.append(UInt8(ascii: "0"))
            return
        }
        if negative { out.append(UInt8(ascii: "-")) }
        var j = firstDigit
        while j < endDigit {
            if text[j] != UInt8(ascii: ".") { out.append(text[j]) }
            j += 1
        }
        if exponent != 0 {
            out.append(UInt8(ascii: "E"))
            out.append(contentsOf: String(exponent).utf8)
        }
    }
}
