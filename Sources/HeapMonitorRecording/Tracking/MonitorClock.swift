import CHeapMonitor
import HeapMonitorModel

/// The clock of birth, death and snapshot times: the time since the monitor
/// was first used in this process, in nanoseconds of the clock the hooks use
/// (their stamps are to the millisecond).
enum MonitorClock {
    private static let origin = hm_now()

    /// Fixes the origin (the first use fixes it; the tracker does this when
    /// created, before any birth is recorded).
    static func start() { _ = origin }

    /// The current time in nanoseconds.
    static var now: UInt64 { hm_now() }

    /// A span of `ticks` nanoseconds.
    static func span(_ ticks: UInt64) -> Duration { .nanoseconds(Int64(clamping: ticks)) }

    /// The time since the origin at `ticks` (negative before it).
    static func time(_ ticks: UInt64) -> Duration {
        ticks >= origin ? span(ticks - origin) : .zero - span(origin - ticks)
    }

    /// The time since the origin now.
    static var elapsed: Duration { time(now) }
}
