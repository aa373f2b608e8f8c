import CHeapMonitor

/// The clock of birth, death and snapshot times: seconds since the monitor
/// was first used in this process, read from the same counter the hooks use.
enum MonitorClock {
    private static let origin = hm_now()
    static let secondsPerTick = hm_nanoseconds_per_tick() / 1e9

    /// Fixes the origin (the first use fixes it; the tracker does this when
    /// created, before any birth is recorded).
    static func start() { _ = origin }

    /// The current time in ticks.
    static var now: UInt64 { hm_now() }

    /// Seconds since the origin at `ticks`.
    static func seconds(_ ticks: UInt64) -> Double {
        ticks >= origin ? Double(ticks - origin) * secondsPerTick : -Double(origin - ticks) * secondsPerTick
    }

    /// Seconds since the origin now.
    static var elapsed: Double { seconds(now) }
}

extension Duration {
    /// Whole nanoseconds, saturating.
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (product, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? Int64.max : product.addingReportingOverflow(attoseconds / 1_000_000_000).partialValue
    }
}
