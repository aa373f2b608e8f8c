@testable import HeapMonitor
@testable import HeapMonitorAnalysis
@testable import HeapMonitorModel
@testable import HeapMonitorRecording
import CHeapMonitor
import Foundation
import Testing

private final class Citizen { var id = 0; var tags: [String] = [] }
private final class Visitor { var id = 0 }
private final class StackBorn { var id = 0 }
/// Objects made before a census: one class per way of walking, so that
/// what one test case leaves in freed memory (a census's rows) is not read
/// as the other's objects when scanning every boundary.
private class Settler { var id = 0; var name = "" }
private final class FollowedSettler: Settler {}
private final class ScannedSettler: Settler {}
private final class Impostor { var id = 0 }
private final class StackImpostor { var id = 0 }

/// Writes a glibc chunk of 32 bytes in use with a live header of the class
/// of `metadata` into `frame`, word by word: an array literal holding a
/// header would be a header of its own, in the array's storage.
private func plantChunk(in frame: UnsafeMutableRawBufferPointer, metadata: UInt) {
    let words = frame.bindMemory(to: UInt.self)
    words.initialize(repeating: 0)
    words[1] = 32 | 1
    words[2] = metadata
    words[3] = 3
    words[5] = 32 | 1
}

/// How the heap walk finds blocks: glibc's chunk chains (the default with
/// glibc), or every 16-byte boundary (as with any other allocator).
enum WalkMode: CaseIterable, Sendable {
    case followingChunks, scanningEveryBoundary

    func use() { hm_test_scan_every_boundary(self == .scanningEveryBoundary ? 1 : 0) }

    /// A cleared tracker, its census off, the heap walked this way (until
    /// `followingChunks.use()` sets the default back).
    func freshTracker() -> Tracker {
        let tracker = HeapMonitorTests.freshTracker()
        tracker.stopCensus()
        use()
        return tracker
    }

    /// A settler of this mode's own class.
    fileprivate func settler() -> Settler { self == .followingChunks ? FollowedSettler() : ScannedSettler() }

    /// Its name in the census (which leaves private contexts out).
    fileprivate var settlerClass: String {
        self == .followingChunks ? "HeapMonitorTests.FollowedSettler" : "HeapMonitorTests.ScannedSettler"
    }
}

extension TrackerSuite {
    @Suite("Census")
    struct CensusTests {
        @Test func countsLiveInstancesAndTheirBytesByClass() throws {
            let tracker = freshTracker()
            try tracker.startCensus()
            defer { tracker.stopCensus() }
            let baseline = tracker.census().first { $0.className.hasSuffix("Citizen") }
            var citizens = (0..<300).map { _ in keep(Citizen()) }
            let visitors = (0..<20).map { _ in keep(Visitor()) }
            for _ in 0..<50 { _ = keep(Visitor()) }
            let entries = tracker.census()
            let citizen = try #require(entries.first { $0.className.hasSuffix("Citizen") })
            let visitor = try #require(entries.first { $0.className.hasSuffix("Visitor") })
            #expect(citizen.liveCount - (baseline?.liveCount ?? 0) == 300)
            #expect(citizen.liveBytes - (baseline?.liveBytes ?? 0) == citizens.reduce(0) { $0 + flatSize(of: $1) })
            #expect(visitor.liveCount == 20 && visitor.allocations >= 70)
            #expect(!entries.contains { $0.className.hasPrefix("Swift.") }, "standard library storage is left out")
            citizens.removeLast(100)
            #expect(
                tracker.census().first { $0.className.hasSuffix("Citizen") }!.liveCount - (baseline?.liveCount ?? 0)
                    == 200)
            let snapshot = try tracker.takeSnapshot()
            #expect(snapshot.census.contains { $0.className.hasSuffix("Citizen") })
            _ = keep((citizens, visitors))
        }

        /// Objects freed half made (a failed initialiser: the runtime's
        /// partial free) leave the census as whole ones do.
        @Test func objectsFreedHalfMadeAreCountedOut() throws {
            let tracker = freshTracker()
            try tracker.startCensus()
            defer { tracker.stopCensus() }
            let made = (0..<keep(10)).compactMap { _ in HalfMade(fail: keep(false)) }
            let failed = (0..<keep(25)).compactMap { _ in HalfMade(fail: keep(true)) }
            let row = try #require(tracker.census().first { $0.className.hasSuffix("HalfMade") })
            #expect(failed.isEmpty && row.liveCount == 10 && row.allocations == 35)
            _ = keep(made)
        }

        /// The monitor's layouts, maps and reports are its own, not the
        /// host's: a sized snapshot builds layouts (TypeLayout objects) here.
        @Test func leavesTheMonitorsOwnClassesOut() throws {
            let tracker = freshTracker()
            try tracker.startCensus()
            defer { tracker.stopCensus() }
            try tracker.track(class: Citizen.self, resolutionLevel: 2)
            let citizens = (0..<keep(10)).map { _ in Citizen() }
            _ = try tracker.takeSnapshot(named: "builds layouts")
            let modules = Set(tracker.census().map { $0.className.prefix { $0 != "." } })
            #expect(modules.isDisjoint(with: ["HeapMonitor", "HeapMonitorRecording", "HeapMonitorModel",
                                              "HeapMonitorAnalysis"]), "\(modules)")
            #expect(modules.contains("HeapMonitorTests"))
            #expect(MonitorClasses.contains("HeapMonitorRecording.TypeLayout"))
            #expect(!MonitorClasses.contains("HeapMonitorTests.Citizen") && !MonitorClasses.contains("TypeLayout"))
            _ = keep(citizens)
        }

        @Test func storageMadeForTheMonitorsValuesIsTheMonitors() {
            #expect(MonitorClasses.contains("Swift._ContiguousArrayStorage<HeapMonitorModel.SizedNode>"))
            #expect(MonitorClasses.contains("Swift._DictionaryStorage<Swift.String, HeapMonitorRecording.TypeLayout>"))
            #expect(MonitorClasses.contains("Swift._ContiguousArrayStorage<(Swift.Int, HeapMonitor.Tracker)>"))
            #expect(!MonitorClasses.contains("Swift._ContiguousArrayStorage<MyHeapMonitorApp.Session>"))
        }

        @Test func standardLibraryStorageIsCountedUnderItsCollection() {
            #expect(CensusGroups.row(for: "Swift._ContiguousArrayStorage<App.Session>") == "Array<Element> storage")
            #expect(CensusGroups.row(for: "Swift._DictionaryStorage<Swift.Int, App.Session>")
                == "Dictionary<Key, Value> storage")
            #expect(CensusGroups.row(for: "Swift.__StringStorage") == "String storage")
            #expect(CensusGroups.row(for: "App.Session") == "App.Session")
            #expect(CensusGroups.row(for: "Swift._ContiguousArrayStorage<HeapMonitorModel.SizedNode>") == nil)
        }

        /// Each element type has its own array storage class: one row.
        @Test func classesOfOneRowAreAddedUp() {
            func row(_ live: Int, bytes: Int) -> hm_census_row {
                var row = hm_census_row()
                row.allocations = Int64(live + 1)
                row.deallocations = 1
                row.allocated_bytes = Int64(bytes + 32)
                row.deallocated_bytes = 32
                return row
            }
            let entries = Tracker.censusEntries(
                [row(2, bytes: 64), row(3, bytes: 96), row(1, bytes: 16), row(5, bytes: 500)],
                names: ["Array<Element> storage", "Array<Element> storage", "App.Session", nil])
            #expect(entries == [
                CensusEntry(className: "Array<Element> storage", liveCount: 5, liveBytes: 160, allocations: 7),
                CensusEntry(className: "App.Session", liveCount: 1, liveBytes: 16, allocations: 2),
            ])
        }

        /// An object the optimiser put on the stack dies through the hooks
        /// but was never allocated: not counted (and not sized: jemalloc
        /// faults on a stack address).
        @Test func stackObjectsAreNotCounted() throws {
            let tracker = freshTracker()
            try tracker.startCensus()
            defer { tracker.stopCensus() }
            let onHeap = (0..<5).map { _ in keep(StackBorn()) }
            let metadata = unsafeBitCast(StackBorn.self, to: UnsafeRawPointer.self)
            // In the thread's own log, and in the late log (no stack bounds).
            for lateLog in [0, 1, 0, 1] {
                hm_test_use_late_log(Int32(lateLog))
                withUnsafeTemporaryAllocation(byteCount: 64, alignment: 16) { frame in
                    hm_test_stack_object(metadata, frame.baseAddress!, 24)
                }
            }
            hm_test_use_late_log(0)
            let row = try #require(tracker.census().first { $0.className == "HeapMonitorTests.StackBorn" })
            #expect(row.liveCount == 5 && row.allocations == 5, "\(row)")
            #expect(row.liveBytes == onHeap.reduce(0) { $0 + flatSize(of: $1) })
            _ = keep(onHeap)
        }

        /// Instances made before the census started are found by a walk of
        /// the heap (forked): plain ones, one with a side table (weakly
        /// referenced), and the census goes on counting from there.
        @Test(arguments: WalkMode.allCases)
        func countsInstancesAliveBeforeItStartedByWalkingTheHeap(_ mode: WalkMode) throws {
            let tracker = mode.freshTracker()
            defer { WalkMode.followingChunks.use() }
            // The tables are the process's: earlier runs counted too.
            let earlier = Int(Tracker.censusRows().first {
                $0.metadata == unsafeBitCast(type(of: mode.settler()), to: UnsafeRawPointer.self)
            }?.allocations ?? 0)
            var settlers = (0..<500).map { _ in keep(mode.settler()) }
            let watched = keep(mode.settler())
            weak var weakly = watched
            try tracker.countInstancesAliveBeforeCensus()
            defer { tracker.stopCensus() }
            let later = (0..<40).map { _ in keep(mode.settler()) }
            func settler() throws -> CensusEntry {
                try #require(tracker.census().first { $0.className == mode.settlerClass })
            }
            // Each object's own block (`flatSize` would add the side table).
            let bytes = (settlers + later + [watched]).reduce(0) {
                $0 + hm_block_size(Unmanaged.passUnretained($1).toOpaque())
            }
            let found = try settler()
            #expect(found.liveCount == 541)
            #expect(found.liveBytes == bytes, "\(found.liveBytes) \(bytes)")
            #expect(try settler().allocations - earlier == 40, "counted from the census's start")
            settlers.removeLast(200)
            #expect(try settler().liveCount == 341)
            try tracker.countInstancesAliveBeforeCensus()
            #expect(try settler().liveCount == 341, "the walk is made once")
            #expect(weakly != nil)
            _ = keep((settlers, later, watched))
        }

        /// Words that only look like an object's header: a dying object's
        /// (deiniting), an immortal one's, one whose side table does not
        /// point back, a count without its pure-Swift bit, and a header
        /// inside a block, which only glibc's chunks tell apart. Only the
        /// block with a live header counts.
        @Test(arguments: WalkMode.allCases) func theWalkCountsOnlyLiveHeaders(_ mode: WalkMode) throws {
            let tracker = mode.freshTracker()
            defer { WalkMode.followingChunks.use() }
            let metadata = UInt(bitPattern: unsafeBitCast(Impostor.self, to: UnsafeRawPointer.self))
            let elsewhere = UnsafeMutablePointer<UInt>.allocate(capacity: 4)
            elsewhere.initialize(repeating: 3, count: 4)
            let sideTable = (UInt(1) << 63) | (UInt(1) << 62) | (UInt(bitPattern: elsewhere) >> 3)
            let counts: [UInt] = [0x1_0000_0003, 0xFFFF_FFFF_FFFF_FFFF, sideTable, 0x2, 0x3]
            // Each word stored alone: an array literal holding a header would
            // be a header of its own, in the array's storage.
            let blocks = counts.map { count in
                let block = UnsafeMutablePointer<UInt>.allocate(capacity: 4)
                block.initialize(repeating: 0, count: 4)
                block[0] = metadata
                block[1] = count
                return block
            }
            // Inside a block, after a word that reads as a chunk size whose
            // next chunk does not say this one is in use.
            let inside = UnsafeMutablePointer<UInt>.allocate(capacity: 6)
            inside.initialize(repeating: 0, count: 6)
            inside[1] = 32 | 1
            inside[2] = metadata
            inside[3] = 3
            defer {
                // Freed blocks keep their words: no fake header outlives the test.
                for block in blocks + [elsewhere] { block.update(repeating: 0, count: 4) }
                inside.update(repeating: 0, count: 6)
                (blocks + [elsewhere, inside]).forEach { $0.deallocate() }
            }
            try tracker.countInstancesAliveBeforeCensus()
            defer { tracker.stopCensus() }
            let impostor = tracker.census().first { $0.className == "HeapMonitorTests.Impostor" }
            // Scanning every boundary, a live header inside a block counts.
            #expect(impostor?.liveCount == (mode == .scanningEveryBoundary ? 2 : 1))
        }

        /// A thread's stack holds words that pass for a header; here a
        /// whole fake glibc chunk with a live header, in the frame of a
        /// thread that runs (no stack pointer from the kernel: its stack is
        /// found above its guard page) and of the calling thread. Neither
        /// counts, and heap objects beside them do.
        @Test(arguments: WalkMode.allCases) func theWalkLeavesThreadStacksOut(_ mode: WalkMode) throws {
            let tracker = mode.freshTracker()
            defer { WalkMode.followingChunks.use() }
            let metadata = UInt(bitPattern: unsafeBitCast(StackImpostor.self, to: UnsafeRawPointer.self))
            let ready = Locked(false), done = Locked(false)
            let thread = Thread {
                withUnsafeTemporaryAllocation(byteCount: 48, alignment: 16) { frame in
                    plantChunk(in: frame, metadata: metadata)
                    ready.withLock { $0 = true }
                    while !done.withLock({ $0 }) {}
                    _ = keep(frame)
                }
            }
            thread.start()
            while !ready.withLock({ $0 }) {}
            let settlers = (0..<30).map { _ in keep(mode.settler()) }
            try withUnsafeTemporaryAllocation(byteCount: 48, alignment: 16) { frame in
                plantChunk(in: frame, metadata: metadata)
                try tracker.countInstancesAliveBeforeCensus()
                _ = keep(frame)
            }
            done.withLock { $0 = true }
            thread.cancel()
            defer { tracker.stopCensus() }
            let census = tracker.census()
            #expect(!census.contains { $0.className == "HeapMonitorTests.StackImpostor" })
            #expect(census.first { $0.className == mode.settlerClass }?.liveCount == 30)
            _ = keep(settlers)
        }

        /// A forked child makes metadata of its own (a generic class first
        /// used there); its address means nothing here, and naming it made
        /// the runtime crash a server. Only this process's classes stay.
        @Test func seedRowsOfClassesThisProcessLacksAreDropped() {
            let settler = UInt(bitPattern: unsafeBitCast(FollowedSettler.self, to: UnsafeRawPointer.self))
            let descriptor = UnsafeRawPointer(bitPattern: settler)!.load(fromByteOffset: 40, as: UInt.self)
            let junk = UnsafeMutablePointer<UInt>.allocate(capacity: 16)
            junk.initialize(repeating: 0x5A5A, count: 16)
            defer { junk.deallocate() }
            var seed = CensusSeed()
            seed.rows = [
                settler: CensusSeed.Row(count: 3, bytes: 144, descriptor: descriptor),
                settler + 8: CensusSeed.Row(count: 1, bytes: 48, descriptor: descriptor),
                UInt(bitPattern: junk): CensusSeed.Row(count: 1, bytes: 48, descriptor: 0x5A5A),
                0x1000: CensusSeed.Row(count: 1, bytes: 48, descriptor: 0),
                0x2000: CensusSeed.Row(count: -2, bytes: -96, descriptor: 0),
            ]
            var wrongDescriptor = seed
            wrongDescriptor.rows = [settler: CensusSeed.Row(count: 3, bytes: 144, descriptor: descriptor + 4)]
            #expect(Set(seed.keepingThisProcesssClasses(counted: [0x2000]).rows.keys) == [settler, 0x2000])
            #expect(wrongDescriptor.keepingThisProcesssClasses(counted: []).rows.isEmpty)
        }

        @Test func privateClassesHaveTheNameTheSourceGives() throws {
            let tracker = freshTracker()
            try tracker.startCensus()
            defer { tracker.stopCensus() }
            let citizen = keep(Citizen())
            #expect(tracker.census().contains { $0.className == "HeapMonitorTests.Citizen" })
            _ = keep(citizen)
        }
    }
}
