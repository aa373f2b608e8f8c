import CHeapMonitor
import HeapMonitorModel

/// The clock of birth, death and snapshot times: the time since the monitor
/// was first used in this process, in nanoseconds of the clock the hooks
/// stamp events with (CLOCK_MONOTONIC; events to 1 ms, see `hm_event_clock_now`).
enum MonitorClock {
    private static let origin = hm_event_clock_now()

    /// Fixes the origin (the first use fixes it; the tracker does this when
    /// created, before any birth is recorded).
    static func start() { _ = origin }

    /// The current time in nanoseconds, ordered with the events' times:
    /// events recorded before have earlier or equal times, later ones later
    /// or equal (their 1 ms stamps may lag the system clock).
    static var now: UInt64 { hm_event_clock_now() }

    /// A span of `nanoseconds`.
    static func span(_ nanoseconds: UInt64) -> Duration { .nanoseconds(Int64(clamping: nanoseconds)) }

    /// The time since the origin at `nanoseconds` (negative before it).
    static func time(_ nanoseconds: UInt64) -> Duration {
        nanoseconds >= origin ? span(nanoseconds - origin) : .zero - span(origin - nanoseconds)
    }

    /// The time since the origin now.
    static var elapsed: Duration { time(now) }
}
