import CHeapMonitor
@testable import HeapMonitor
@testable import HeapMonitorAnalysis
@testable import HeapMonitorModel
@testable import HeapMonitorRecording
import Testing

private final class Counted { var value: Int; init(_ value: Int) { self.value = value } }
private class Animal { var legs = 4 }
private class Dog: Animal { var name = "rex" }
private final class Puppy: Dog { var age = 1 }
private final class Box<T> { var value: T; init(_ value: T) { self.value = value } }
private struct Refused: Error {}
private final class Throwing {
    var payload = [1, 2, 3]
    init(fail: Bool) throws { if fail { throw Refused() } }
}
private actor Counter { var count = 0 }
private final class Untracked { var x = 0 }

extension TrackerSuite {
    @Suite("Class tracking")
    struct ClassTrackingTests {
        @Test func countsEveryInstanceOfALoopExactly() throws {
            let tracker = freshTracker()
            let before = keep(Counted(-1))
            try tracker.track(class: Counted.self)
            var kept: [Counted] = []
            for index in 0..<1000 { kept.append(Counted(index)) }
            for index in 0..<500 { _ = keep(Counted(index)) }
            #expect(tracker.objects(ofClass: "Counted").count == 1000)
            #expect(tracker.shortLivedObjects.first { $0.className.hasSuffix("Counted") }?.count == 500)
            let addresses = Set(kept.map { UInt(bitPattern: Unmanaged.passUnretained($0).toOpaque()) })
            #expect(Set(tracker.objects.map(\.address)) == addresses)
            #expect(tracker.objects.allSatisfy { $0.isAlive })
            kept.removeAll()
            let objects = tracker.objects(ofClass: "Counted")
            #expect(objects.count == 1000)
            #expect(objects.allSatisfy { !$0.isAlive && $0.death! >= $0.birth })
            _ = keep(before)
        }

        /// Times are the event clock's (to its millisecond tick): never
        /// before what it read just before, never after the real time after.
        @Test func birthAndDeathTimesAreTheEventClocks() throws {
            let tracker = freshTracker()
            try tracker.track(class: Counted.self)
            let start = MonitorClock.time(hm_event_clock_now())
            var object: Counted? = keep(Counted(1))
            let middle = MonitorClock.elapsed
            _ = tracker.objects
            let beforeDeath = MonitorClock.time(hm_event_clock_now())
            object = nil
            let end = MonitorClock.elapsed
            let tracked = try #require(tracker.objects.first)
            #expect(start <= tracked.birth && tracked.birth <= middle)
            #expect(beforeDeath <= tracked.death! && tracked.death! <= end)
            _ = object
        }

        @Test func subclassesAreTrackedAndTheMostSpecialisedSettingsWin() throws {
            let tracker = freshTracker()
            try tracker.track(class: Animal.self, resolutionLevel: 0)
            try tracker.track(class: Dog.self, resolutionLevel: 2)
            let animals: [Animal] = [keep(Animal()), keep(Dog()), keep(Puppy())]
            let levels = Dictionary(
                uniqueKeysWithValues: tracker.objects.map {
                    ($0.className.split(separator: ".").last!, $0.resolutionLevel)
                })
            #expect(levels == ["Animal": 0, "Dog": 2, "Puppy": 2])
            _ = keep(animals)
        }

        @Test func genericSpecialisationsAreTrackedAsAsked() throws {
            let tracker = freshTracker()
            try tracker.track(class: Box<Int>.self)
            let first = [keep(Box(1)), keep(Box(2))] as [AnyObject] + [keep(Box("a"))]
            #expect(tracker.objects.count == 2)
            try tracker.track(class: Box<Int>.self, allSpecializations: true)
            let second: [AnyObject] = [keep(Box("b")), keep(Box(3.0))]
            #expect(tracker.objects.count == 4)
            _ = keep((first, second))
        }

        @Test func failableAndThrowingInitialisersBalance() throws {
            let tracker = freshTracker()
            try tracker.track(class: HalfMade.self)
            try tracker.track(class: Throwing.self)
            _ = tracker.objects
            let made = keep(HalfMade(fail: false))
            #expect(keep(HalfMade(fail: keep(true))) == nil)
            #expect(throws: Refused.self) { _ = try keep(Throwing(fail: keep(true))) }
            let thrown = try keep(Throwing(fail: false))
            // The failed ones died at once: counted as short-lived, not kept.
            let objects = tracker.objects
            #expect(objects.count == 2 && objects.allSatisfy(\.isAlive))
            #expect(tracker.shortLivedObjects.map(\.count) == [1, 1])
            _ = keep((made, thrown))
        }

        @Test func actorsAreTracked() async throws {
            let tracker = freshTracker()
            try tracker.track(class: Counter.self)
            var counter: Counter? = keep(Counter())
            _ = await counter!.count
            #expect(tracker.objects.filter(\.isAlive).count == 1)
            counter = nil
            #expect(tracker.objects.filter(\.isAlive).isEmpty)
            #expect(tracker.objects.count == 1)
        }

        @Test func objectsFromTwoThreadsAreCountedExactly() async throws {
            let tracker = freshTracker()
            try tracker.track(class: Counted.self)
            _ = tracker.objects
            let dropped = tracker.droppedEvents  // a process-wide count
            let perThread = 50_000
            await withTaskGroup(of: Int.self) { group in
                for _ in 0..<2 {
                    group.addTask {
                        var live: [Counted] = []
                        for index in 0..<perThread {
                            let object = keep(Counted(index))
                            if index % 10 == 0 { live.append(object) }
                        }
                        return live.count
                    }
                }
                for await _ in group {}
            }
            let objects = tracker.objects
            let short = tracker.shortLivedObjects.reduce(0) { $0 + $1.count }
            #expect(objects.count + short == 2 * perThread)
            #expect(objects.allSatisfy { !$0.isAlive })
            #expect(tracker.droppedEvents == dropped)
        }

        @Test func detachedClassesStopTrackingNewInstancesOnly() throws {
            let tracker = freshTracker()
            try tracker.track(class: Counted.self)
            var old: Counted? = keep(Counted(1))
            tracker.stopTracking(class: Counted.self)
            let new = keep(Counted(2))
            #expect(tracker.objects.count == 1)
            old = nil
            #expect(tracker.objects.first?.isAlive == false)
            _ = keep((old, new))
        }

        @Test func untrackedClassesAreNotRecorded() throws {
            let tracker = freshTracker()
            try tracker.track(class: Counted.self)
            let others = (0..<100).map { _ in keep(Untracked()) }
            #expect(tracker.objects.isEmpty)
            _ = keep(others)
        }

        @Test func stringsAndCollectionsKeepWorkingWithHooksOn() throws {
            let tracker = freshTracker()
            try tracker.startCensus()
            try tracker.track(class: Counted.self)
            var text = ""
            var table: [String: [Int]] = [:]
            var counted: [Counted] = []
            for index in 0..<2000 {
                text += "line \(index) é ✓\n"
                table["key-\(index)", default: []].append(index)
                if index % 100 == 0 { counted.append(Counted(index)) }
            }
            #expect(text.split(separator: "\n").count == 2000)
            #expect(table.count == 2000 && table["key-1999"] == [1999])
            #expect(Set((0..<1000).map { "s\($0)" }).count == 1000)
            // The hooks were live throughout: every instance between the
            // strings was recorded, and the census counted them.
            #expect(tracker.objects.filter(\.isAlive).count == 20)
            #expect(tracker.census().first { $0.className.hasSuffix(".Counted") }?.liveCount == 20)
            tracker.stopCensus()
            _ = keep(counted)
        }
    }
}
