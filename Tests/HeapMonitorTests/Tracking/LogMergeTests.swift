import CHeapMonitor
@testable import HeapMonitorRecording
import Testing

private final class Handed: Sendable { let x = 0 }

/// Batches of objects handed from a making thread to a freeing one, under a
/// pthread mutex (the thread sanitizer does not see `Mutex`'s futex).
private final class HandOff: Sendable {
    let batches = Locked<[[Handed]]>([])
}

extension TrackerSuite {
    @Suite("Merging the logs")
    struct LogMergeTests {
        /// Objects made on one thread and freed on another, their addresses
        /// reused at once: every birth meets its death across the logs, and
        /// an address reused before its death is read counts the object it
        /// ends. With the clock held, every event has one time and the
        /// reader orders each address's events by alternation alone.
        @Test(arguments: [false, true])
        func objectsHandedBetweenThreadsAreCountedExactly(clockHeld: Bool) async throws {
            let tracker = freshTracker()
            try tracker.track(class: Handed.self)
            _ = tracker.objects
            hm_test_hold_event_clock(clockHeld ? 1 : 0)
            let dropped = tracker.droppedEvents  // a process-wide count
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
            hm_test_hold_event_clock(0)
            let shortLived = tracker.shortLivedObjects.filter { $0.className.hasSuffix("Handed") }.reduce(0) {
                $0 + $1.count
            }
            let alive = objects.filter(\.isAlive).count
            #expect(alive == 0, "a freed object is still counted alive")
            #expect(objects.count + shortLived == total)
            #expect(tracker.droppedEvents == dropped)
        }
    }
}
