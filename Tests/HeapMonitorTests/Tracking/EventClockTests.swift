import CHeapMonitor
@testable import HeapMonitorRecording
import Testing

private final class Ticked {}

extension TrackerSuite {
    @Suite("Event clock")
    struct EventClockTests {
        /// The clock word moves only while classes are tracked: a program
        /// that tracks nothing pays no wake-ups of the monitor's clock.
        @Test func theClockTicksOnlyWhileClassesAreTracked() async throws {
            let tracker = freshTracker()
            try tracker.track(class: Ticked.self)
            let start = hm_event_clock_now()
            #expect(try await Self.tick(after: start) > start, "the clock did not tick while a class was tracked")
            tracker.clear()
            try await Task.sleep(for: .milliseconds(50))  // a tick in flight ends
            let idle = hm_event_clock_now()
            try await Task.sleep(for: .milliseconds(50))
            #expect(hm_event_clock_now() == idle, "the clock ticked with nothing tracked")
            try tracker.track(class: Ticked.self)
            let again = hm_event_clock_now()
            #expect(again > idle, "tracking starts with the time now")
            #expect(try await Self.tick(after: again) > again, "the clock did not wake")
            tracker.clear()
        }

        /// Tracking does not follow a fork (the child has no drains), and a
        /// child forked while another thread changes the registry can track:
        /// the registry's lock is free in it, and it starts a clock of its
        /// own, which ticks. (A lock held by that thread at the fork would
        /// stay held in the child for good.)
        @Test func aForkedChildTracksOnlyAnew() throws {
            let tracker = freshTracker()
            try tracker.track(class: Ticked.self)
            defer { tracker.clear() }
            let forks: Int32 = 20
            #expect(hm_test_tracking_after_forks(forks) == forks)
        }

        /// The clock's value once it moves past `time` (at most 2 s).
        private static func tick(after time: UInt64) async throws -> UInt64 {
            var now = time
            for _ in 0..<200 where now == time {
                try await Task.sleep(for: .milliseconds(10))
                now = hm_event_clock_now()
            }
            return now
        }
    }
}
