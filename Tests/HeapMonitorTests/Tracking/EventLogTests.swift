@testable import HeapMonitorRecording
import CHeapMonitor
import Testing
#if canImport(Glibc)
import Glibc
#endif

private final class Logged { var x = 0 }

/// A thread-specific value whose destructor makes `perRound` objects on each
/// of its rounds: it sets itself again, so a later round runs after the
/// hooks' own destructor retired the thread's log.
private nonisolated(unsafe) var lateObjects: [Logged] = []
private nonisolated(unsafe) var lateRounds = 0
private nonisolated(unsafe) var lateKey = pthread_key_t()

extension TrackerSuite {
    @Suite("Event logs")
    struct EventLogTests {
        @Test func logsOfExitedThreadsAreDrainedAndAdopted() throws {
            let tracker = freshTracker()
            try tracker.track(class: Logged.self)
            let dropped = tracker.droppedEvents  // a process-wide count
            var kept: [[Logged]] = []
            for round in 0..<4 {
                // Each thread exits; the next adopts a drained log.
                var made: [Logged] = []
                onNewThread { made = (0..<1000).map { _ in keep(Logged()) } }
                kept.append(made)
                #expect(tracker.objects(ofClass: "Logged").filter(\.isAlive).count == 1000 * (round + 1))
            }
            kept.removeAll()
            #expect(tracker.objects(ofClass: "Logged").filter(\.isAlive).isEmpty)
            #expect(tracker.droppedEvents == dropped)
        }

        /// Objects made in thread-specific destructors, after the thread's
        /// log was retired, go to the late log and are counted exactly.
        @Test func objectsMadeAfterTheLogWasRetiredAreRecorded() throws {
            let tracker = freshTracker()
            try tracker.track(class: Logged.self)
            lateObjects = []
            lateRounds = 0
            onNewThread {
                pthread_key_create(&lateKey) { value in
                    lateObjects += (0..<100).map { _ in keep(Logged()) }
                    lateRounds += 1
                    // Again next round (at most PTHREAD_DESTRUCTOR_ITERATIONS).
                    if lateRounds < 3 { pthread_setspecific(lateKey, value) }
                }
                pthread_setspecific(lateKey, UnsafeRawPointer(bitPattern: 1))
            }
            let live = tracker.objects(ofClass: "Logged").filter(\.isAlive).count
            #expect(lateRounds >= 2)
            #expect(live == lateObjects.count)
            lateObjects = []
            #expect(tracker.objects(ofClass: "Logged").filter(\.isAlive).isEmpty)
        }

        /// Out of memory for the late log's first chunk: the event is dropped
        /// and counted. (The chunk is made on the late log's first event in
        /// the process; this test is its first user.)
        @Test func aLogWithoutMemoryDropsAndCounts() throws {
            let tracker = freshTracker()
            try tracker.track(class: Logged.self)
            let dropped = tracker.droppedEvents
            hm_test_fail_allocations(1_000_000)
            hm_test_use_late_log(1)
            let made = (0..<10).map { _ in keep(Logged()) }
            hm_test_use_late_log(0)
            hm_test_fail_allocations(0)
            let recorded = tracker.objects(ofClass: "Logged").count
            #expect(recorded + (tracker.droppedEvents - dropped) == made.count)
            _ = keep(made)
        }

        /// Out of memory for a new chunk when the thread's is full.
        @Test func aFullChunkWithoutMemoryDropsAndCounts() throws {
            let tracker = freshTracker()
            try tracker.track(class: Logged.self)
            let dropped = tracker.droppedEvents
            var made: [Logged] = []
            onNewThread {
                made.append(keep(Logged()))  // the thread's log, made or adopted
                hm_test_fail_allocations(1_000_000)
                for _ in 0..<5000 { made.append(keep(Logged())) }
                hm_test_fail_allocations(0)
            }
            let recorded = tracker.objects(ofClass: "Logged").count
            #expect(recorded + (tracker.droppedEvents - dropped) == made.count)
            _ = keep(made)
        }
    }
}
