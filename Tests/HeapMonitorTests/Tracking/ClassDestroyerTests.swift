import CHeapMonitor
import Foundation
@testable import HeapMonitorRecording
import Testing

/// Counts deinits, so that a test sees each object ended by its own class.
private let deinits = Locked<[String]>([])

private final class Caught { deinit { deinits.withLock { $0.append("Caught") } } }
private final class CaughtWithCensus { var id = 0 }
private class Parent { deinit { deinits.withLock { $0.append("Parent") } } }
private final class Child: Parent { deinit { deinits.withLock { $0.append("Child") } } }
private final class Holder<T> {
    let value: T
    init(_ value: T) { self.value = value }
    deinit { deinits.withLock { $0.append("Holder") } }
}
private final class Refusing { var id = 0 }
private final class Raced { var id = 0 }
private final class Waited { var id = 0 }
private final class Scratch {}
private final class Restored { deinit { deinits.withLock { $0.append("Restored") } } }

private func metadata(_ type: AnyClass) -> UnsafeRawPointer { unsafeBitCast(type, to: UnsafeRawPointer.self) }

private func address(_ object: AnyObject) -> UnsafeMutableRawPointer {
    Unmanaged.passUnretained(object).toOpaque()
}

/// Makes `count` objects with `make` on a thread of its own and lets them
/// die there; returns how many births and deaths that thread's log holds
/// for each object, in order (its log may be a retired thread's, which
/// holds events of other objects at those addresses).
private func bornAndEnded(_ count: Int, _ make: @escaping () -> AnyObject) -> [(births: Int, deaths: Int)] {
    let written = Locked<[(births: Int, deaths: Int)]>([])
    onNewThread {
        var objects = (0..<count).map { _ in keep(make()) }
        let places = objects.map { (address($0), metadata(type(of: $0))) }
        objects.removeAll()
        written.withLock { written in
            written = places.map {
                (hm_test_events_written($0.0, $0.1, HM_EVENT_ALLOC.rawValue),
                 hm_test_events_written($0.0, $0.1, HM_EVENT_DEALLOC.rawValue))
            }
        }
    }
    return written.withLock { $0 }
}

private func allOnce(_ written: [(births: Int, deaths: Int)]) -> Bool {
    written.allSatisfy { $0.births == 1 && $0.deaths == 1 }
}

extension TrackerSuite {
    @Suite("Class destroyers")
    struct ClassDestroyerTests {
        /// Only the tracked class pays for its deaths: the runtime's free
        /// stays unhooked, and the class's destroyer hook records each death
        /// once and ends the object through the class's own deinit.
        @Test func aTrackedClassEndsThroughItsOwnHookAlone() throws {
            let tracker = freshTracker()
            tracker.stopCensus()
            deinits.withLock { $0.removeAll() }
            try tracker.track(class: Caught.self)
            let written = bornAndEnded(5) { Caught() }
            #expect(allOnce(written))
            #expect(hm_class_deaths_caught(metadata(Caught.self)) == 1)
            #expect(hm_frees_hooked_now() == 0)
            #expect(deinits.withLock { $0 } == Array(repeating: "Caught", count: 5))
            #expect(shortLived(tracker, "Caught") == 5)
            #expect(hm_objects_left_undestroyed() == 0)
        }

        /// With the census on the free is hooked too, and leaves a caught
        /// class's deaths to its destroyer: written once, counted once.
        @Test func withTheFreeHookedEachDeathIsWrittenOnce() throws {
            let tracker = freshTracker()
            try tracker.startCensus()
            defer { tracker.stopCensus() }
            #expect(hm_frees_hooked_now() == 1)
            try tracker.track(class: CaughtWithCensus.self)
            let written = bornAndEnded(7) { CaughtWithCensus() }
            #expect(allOnce(written))
            #expect(hm_class_deaths_caught(metadata(CaughtWithCensus.self)) == 1)
            let row = tracker.census().first { $0.className.hasSuffix("CaughtWithCensus") }
            #expect(row?.allocations == 7)
            #expect(row?.liveCount == 0)
            tracker.stopCensus()
            #expect(hm_frees_hooked_now() == 0)
        }

        /// Each class has its own destroyer: a subclass of a tracked class
        /// and each specialisation of a tracked generic class are caught in
        /// their own metadata, and end through their own deinits.
        @Test func subclassesAndSpecialisationsAreCaughtInTheirOwnMetadata() throws {
            let tracker = freshTracker()
            tracker.stopCensus()
            deinits.withLock { $0.removeAll() }
            try tracker.track(class: Parent.self)
            try tracker.track(class: Holder<Int>.self, allSpecializations: true)
            #expect(allOnce(bornAndEnded(2) { Child() }))
            #expect(allOnce(bornAndEnded(2) { Holder(1) }))
            #expect(allOnce(bornAndEnded(2) { Holder("one") }))
            for type: AnyClass in [Child.self, Holder<Int>.self, Holder<String>.self] {
                #expect(hm_class_deaths_caught(metadata(type)) == 1)
            }
            #expect(hm_class_deaths_caught(metadata(Parent.self)) == 0)
            #expect(hm_frees_hooked_now() == 0)
            let ended = ["Child", "Parent", "Child", "Parent"] + Array(repeating: "Holder", count: 4)
            #expect(deinits.withLock { $0 } == ended)
            #expect(tracker.liveObjectCount == 0)
        }

        /// A class of a shared library (Foundation's) is caught in that
        /// library's data, as the program's own are.
        @Test func aSharedLibrarysClassIsCaughtInItsImage() throws {
            let tracker = freshTracker()
            tracker.stopCensus()
            try tracker.track(class: JSONDecoder.self)
            #expect(allOnce(bornAndEnded(3) { JSONDecoder() }))
            #expect(hm_class_deaths_caught(metadata(JSONDecoder.self)) == 1)
            #expect(hm_frees_hooked_now() == 0)
        }

        /// Threads that make a class's first instances at once all wait
        /// for its word: none records a birth before it, so every death is
        /// seen.
        @Test func threadsRacingToTheFirstBirthsAreAllSeenToDie() throws {
            let tracker = freshTracker()
            tracker.stopCensus()
            try tracker.track(class: Raced.self)
            let perThread = 2_000
            DispatchQueue.concurrentPerform(iterations: 4) { _ in
                // Most die at once, some while another thread writes the word.
                var kept: [Raced] = []
                for index in 0..<perThread {
                    let object = keep(Raced())
                    if index % 10 == 0 { kept.append(object) }
                }
                kept.removeAll()
            }
            let objects = tracker.objects(ofClass: "Raced")
            #expect(objects.count + shortLived(tracker, "Raced") == 4 * perThread)
            #expect(objects.allSatisfy { !$0.isAlive })
            #expect(hm_class_deaths_caught(metadata(Raced.self)) == 1)
        }

        /// While a class's word is being written, its births wait for it,
        /// the quick path's too (the cache already says "tracked"): none is
        /// recorded before, so none dies unseen past the word.
        @Test func birthsWaitForTheirClasssWord() throws {
            let tracker = freshTracker()
            tracker.stopCensus()
            try tracker.track(class: Waited.self)
            let ended = DispatchGroup()
            func run(_ body: @escaping @Sendable () -> Void) {
                ended.enter()
                Thread { body(); ended.leave() }.start()
            }
            hm_test_hold_destroyer_lock(1)
            run { _ = keep(Waited()) }
            usleep(20_000)
            run {
                // A log first (an event born and ended), which the quick
                // path needs; then objects alive together, so that no
                // address is reused: a reuse would end a record whose death
                // was missed.
                let scratch = UnsafeMutableRawPointer.allocate(byteCount: 16, alignment: 16)
                hm_test_record(scratch, metadata(Scratch.self), 1)
                hm_test_record(scratch, metadata(Scratch.self), 0)
                var kept = (0..<1_000).map { _ in keep(Waited()) }
                kept.removeAll()
                scratch.deallocate()
            }
            usleep(20_000)
            hm_test_hold_destroyer_lock(0)
            ended.wait()
            let objects = tracker.objects(ofClass: "Waited")
            #expect(objects.count + shortLived(tracker, "Waited") == 1_001)
            #expect(objects.allSatisfy { !$0.isAlive })
        }

        /// A class whose metadata cannot be written is not caught there:
        /// the free is hooked for it before its first birth is recorded, so
        /// no death is missed, and unhooked once nothing is tracked.
        @Test func aClassThatCannotBeCaughtHooksTheFree() throws {
            let tracker = freshTracker()
            tracker.stopCensus()
            #expect(hm_frees_hooked_now() == 0)
            hm_test_refuse_destroyers(1)
            defer { hm_test_refuse_destroyers(0) }
            try tracker.track(class: Refusing.self)
            #expect(allOnce(bornAndEnded(3) { Refusing() }))
            #expect(hm_class_deaths_caught(metadata(Refusing.self)) == 0)
            #expect(hm_frees_hooked_now() == 1)
            tracker.clear()
            #expect(hm_frees_hooked_now() == 0)
        }

        /// Once nothing is tracked every class holds its own destroyer
        /// again; an object born while caught still ends through its deinit.
        @Test func stoppingPutsEveryDestroyerBack() throws {
            let tracker = freshTracker()
            tracker.stopCensus()
            deinits.withLock { $0.removeAll() }
            let word = metadata(Restored.self).load(fromByteOffset: -16, as: UInt.self)
            try tracker.track(class: Restored.self)
            var survivor: Restored? = keep(Restored())
            #expect(metadata(Restored.self).load(fromByteOffset: -16, as: UInt.self) != word)
            tracker.clear()
            #expect(metadata(Restored.self).load(fromByteOffset: -16, as: UInt.self) == word)
            #expect(hm_class_deaths_caught(metadata(Restored.self)) == 0)
            survivor = nil
            #expect(deinits.withLock { $0 } == ["Restored"])
            _ = survivor
        }
    }
}
