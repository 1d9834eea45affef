/// Something that paces reads: ``take(_:isStopping:)`` returns once `units`
/// reads (items) may be made. FerryKit's `ReadPacer` is one; a nil throttle
/// means no limit.
public protocol ReadThrottle: Sendable {
    /// Waits until `units` more reads fit the rate, or until `isStopping`
    /// says to give up waiting.
    func take(_ units: Double, isStopping: () -> Bool)
}
