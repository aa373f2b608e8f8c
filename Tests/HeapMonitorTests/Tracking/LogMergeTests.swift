import CHeapMonitor
@testable import HeapMonitorRecording
import Testing

private final class Handed: Sendable { let x = 0 }

/// Classes whose events the tests below write themselves.
private final class Kept {}
private final class MadeBefore {}

/// One event a test writes: a birth or death of `type` at `address`.
private struct Written {
    var address: UnsafeMutableRawPointer
    var type: AnyClass
    var birth: Bool

    static func birth(at address: UnsafeMutableRawPointer, of type: AnyClass = Kept.self) -> Written {
        Written(address: address, type: type, birth: true)
    }

    static func death(at address: UnsafeMutableRawPointer, of type: AnyClass = Kept.self) -> Written {
        Written(address: address, type: type, birth: false)
    }
}

/// Runs `body` with a fresh tracker that tracks `Kept` and a block to write
/// events about: real memory, never an object.
private func withKeptBlock(_ body: (Tracker, UnsafeMutableRawPointer) throws -> Void) throws {
    let tracker = freshTracker()
    try tracker.track(class: Kept.self)
    let address = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 16)
    defer { address.deallocate() }
    try body(tracker, address)
}

/// Writes each thread's events on a thread of its own, one thread after
/// another, all at one time: the event clock is held, so only alternation
/// can order one address's events across the threads. Then reads them all.
private func writeAtOneTime(_ threads: [[Written]], into tracker: Tracker) {
    hm_test_hold_event_clock(1)
    for events in threads {
        nonisolated(unsafe) let events = events
        onNewThread {
            for event in events {
                hm_test_record(event.address, unsafeBitCast(event.type, to: UnsafeRawPointer.self), event.birth ? 1 : 0)
            }
        }
    }
    _ = tracker.objects
    hm_test_hold_event_clock(0)
}

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

        /// Born on one thread, freed on another at the same time: the
        /// birth goes first, and the object was short-lived.
        @Test func aHandOffAtOneTimeEndsTheObject() throws {
            try withKeptBlock { tracker, address in
                writeAtOneTime([[.birth(at: address)], [.death(at: address)]], into: tracker)
                #expect(tracker.objects(ofClass: "Kept").filter(\.isAlive).isEmpty)
                #expect(shortLived(tracker, "Kept") == 1)
            }
        }

        /// The monitor holds an object at the address; at one time another
        /// thread frees it and a third reuses the block: the death goes
        /// first, and the new object stays.
        @Test func aBlockFreedAndReusedAtOneTimeKeepsTheNewObject() throws {
            try withKeptBlock { tracker, address in
                hm_test_record(address, unsafeBitCast(Kept.self as AnyClass, to: UnsafeRawPointer.self), 1)
                #expect(tracker.objects(ofClass: "Kept").filter(\.isAlive).count == 1)
                writeAtOneTime([[.birth(at: address)], [.death(at: address)]], into: tracker)
                let objects = tracker.objects(ofClass: "Kept")
                #expect(objects.count == 2)
                #expect(objects.filter(\.isAlive).count == 1)
                #expect(shortLived(tracker, "Kept") == 0)
            }
        }

        /// A death of a class no birth there has, at the time of a birth on
        /// another thread: an object made before tracking ended, and the
        /// new one stays.
        @Test func aDeathOfAnotherClassEndsAnObjectMadeBeforeTracking() throws {
            try withKeptBlock { tracker, address in
                try tracker.track(class: MadeBefore.self)
                writeAtOneTime([[.birth(at: address)], [.death(at: address, of: MadeBefore.self)]], into: tracker)
                #expect(tracker.objects(ofClass: "Kept").filter(\.isAlive).count == 1)
                #expect(shortLived(tracker, "Kept") == 0)
            }
        }

        /// More threads than one merge round used to take (256), each
        /// making an object at one time that a thread 150 further on frees:
        /// every log takes part in the time's ordering, so every birth goes
        /// before its death and no object is left alive.
        @Test func oneTimeOnThreeHundredThreadsIsOrderedAsOne() throws {
            let tracker = freshTracker()
            try tracker.track(class: Kept.self)
            let threads = 300, stride = 64
            let blocks = UnsafeMutableRawPointer.allocate(byteCount: threads * stride, alignment: 16)
            defer { blocks.deallocate() }
            let block = { (index: Int) in blocks + (index % threads) * stride }
            writeAtOneTime(
                (0..<threads).map { [.birth(at: block($0)), .death(at: block($0 + threads - 150))] },
                into: tracker)
            #expect(tracker.objects(ofClass: "Kept").filter(\.isAlive).count == 0)
            #expect(shortLived(tracker, "Kept") == threads)
        }

        /// One thread makes three objects at one address, another frees
        /// two: the last birth stays, the other two were short-lived.
        @Test func anAddressReusedOverAndOverAtOneTimeKeepsItsLastObject() throws {
            try withKeptBlock { tracker, address in
                let birth = Written.birth(at: address), death = Written.death(at: address)
                writeAtOneTime([[birth, birth, birth], [death, death]], into: tracker)
                #expect(tracker.objects(ofClass: "Kept").filter(\.isAlive).count == 1)
                #expect(shortLived(tracker, "Kept") == 2)
            }
        }
    }
}
