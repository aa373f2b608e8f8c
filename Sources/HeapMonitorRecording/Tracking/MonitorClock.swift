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

    /// A span of `nanoseconds`.
    static func span(_ nanoseconds: UInt64) -> Duration { .nanoseconds(Int64(clamping: nanoseconds)) }

    /// The time since the origin at clock time `time` (negative before it).
    static func time(_ time: UInt64) -> Duration {
        time >= origin ? span(time - origin) : .zero - span(origin - time)
    }

    /// The time since the origin now.
    static var elapsed: Duration { time(now) }
}
