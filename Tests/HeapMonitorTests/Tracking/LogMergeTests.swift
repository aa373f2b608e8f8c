@testable import HeapMonitorRecording
import CHeapMonitor
import Testing

private final class Handed: Sendable { let x = 0 }

/// Batches of objects handed from a making thread to a freeing one, under a
/// pthread mutex (the thread sanitizer does not see `Mutex`'s futex).
private final class HandOff: Sendable {
    let batches = Locked<[[Handed]]>([])
}
private final class Timed { var x = 0 }

extension TrackerSuite {
    @Suite("Event clock")
    struct EventClockTests {
        /// Events are ordered with the clock read around them, whether the
        /// clock thread ticks (many events) or not.
        @Test func eventTimesAreOrderedWithTheClock() throws {
            let tracker = freshTracker()
            try tracker.track(class: Timed.self)
            for _ in 0..<2 {
                let before = hm_event_clock_now()
                let object = keep(Timed())
                let between = hm_event_clock_now()
                _ = keep(object)
                let record = try #require(tracker.objects.last)
                #expect(MonitorClock.time(before) <= record.birth && record.birth <= MonitorClock.time(between))
                // Many events: the clock thread starts ticking.
                for _ in 0..<300_000 { _ = keep(Timed()) }
            }
        }

        /// Objects made on one thread and freed on another, many within one
        /// tick of the clock: equal times across threads must not leave a
        /// birth without its death.
        @Test func objectsHandedBetweenThreadsAreCountedExactly() async throws {
            let tracker = freshTracker()
            try tracker.track(class: Handed.self)
            _ = tracker.objects
            let handOff = HandOff()
            let total = 200_000, batch = 50
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    for _ in 0..<(total / batch) {
                        let made = (0..<batch).map { _ in keep(Handed()) }
                        handOff.batches.withLock { $0.append(made) }
                    }
                }
                group.addTask {
                    var freed = 0
                    while freed < total {
                        let taken = handOff.batches.withLock { queue in queue.isEmpty ? [] : queue.removeFirst() }
                        freed += taken.count
                        if taken.isEmpty { await Task.yield() }
                    }
                }
            }
            let objects = tracker.objects(ofClass: "Handed")
            let shortLived = tracker.shortLivedObjects.filter { $0.className.hasSuffix("Handed") }.reduce(0) {
                $0 + $1.count
            }
            let alive = objects.filter(\.isAlive).count
            #expect(alive == 0, "a freed object is still counted alive")
            #expect(objects.count + shortLived == total)
            #expect(tracker.droppedEvents == 0)
        }
    }
}
