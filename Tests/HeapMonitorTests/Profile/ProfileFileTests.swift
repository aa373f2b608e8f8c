@testable import HeapMonitor
@testable import HeapMonitorAnalysis
@testable import HeapMonitorModel
@testable import HeapMonitorRecording
import Foundation
import Testing

private final class Leaf {
    var label: String
    var values: [Int]
    init(_ index: Int) {
        label = "leaf number \(index) with a long label"
        values = Array(0..<(index % 20))
    }
}

private final class Holder { var leaves: [Leaf] = [] }

@inline(never) private func makeLeaf(_ index: Int) -> Leaf { keep(Leaf(index)) }

/// A temporary file path, removed by the caller.
func temporaryPath(_ name: String) -> String {
    NSTemporaryDirectory() + "heapmonitor-\(getpid())-\(name)"
}

extension TrackerSuite {
    @Suite("Profile files")
    struct ProfileFileTests {
        @Test func aProfileRecordsWhatTheTrackerSaw() throws {
            let path = temporaryPath("roundtrip.hmprof")
            defer { unlink(path) }
            let tracker = freshTracker()
            try tracker.track(class: Leaf.self, trace: true)
            let holder = Holder()
            try tracker.track(holder, name: "holder", resolutionLevel: 2)
            try tracker.startProfile(at: path)
            holder.leaves = (0..<keep(50)).map(makeLeaf)
            try tracker.takeSnapshot(named: "fifty")
            holder.leaves.removeLast(20)
            try tracker.takeSnapshot(named: "thirty")
            _ = try tracker.takeSnapshot(named: "memory only", sizingObjects: false)
            try tracker.stopProfile()

            let profile = try Profile.load(from: path)
            let objects = tracker.objects
            #expect(profile.isComplete && profile.unreadBytes == 0)
            #expect(profile.objects.count == objects.count)
            #expect(profile.objects.map(\.name) == objects.map(\.name))
            #expect(zip(profile.objects, objects).allSatisfy { abs(($0.birth - $1.birth).inSeconds) < 1e-6 })
            #expect(zip(profile.objects, objects).allSatisfy { ($0.death == nil) == ($1.death == nil) })
            #expect(profile.objects.filter { $0.death != nil }.count == 20)
            #expect(profile.snapshots.map(\.description) == ["fifty", "thirty", "memory only"])
            #expect(profile.snapshots.map(\.sizedObjects) == [true, true, false])
            for (written, taken) in zip(profile.snapshots, tracker.snapshots) {
                #expect(written.objectIDs.map(Int.init) == taken.objects.map(\.object))
                #expect(written.sizes == taken.objects.map(\.size))
                #expect(written.flatSizes == taken.objects.map(\.flatSize))
                #expect(written.memory == taken.memory && written.liveObjectCount == taken.liveObjectCount)
                let holderID = objects.first { $0.name == "holder" }!.id
                #expect(written.referents(of: holderID) == taken.size(of: holderID)?.referents)
            }
            let leaf = try #require(profile.objects.first { profile.classNames[$0.classID].hasSuffix("Leaf") })
            let trace = try #require(leaf.traceID.map { profile.traces[$0] })
            #expect(trace.contains { $0.contains("makeLeaf") })
        }

        /// A file written by format version 1 (minibuild, before snapshot
        /// flags) still loads whole.
        @Test func version1FilesStillLoad() throws {
            let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
                "Fixtures/version1.hmprof"
            ).path
            let profile = try Profile.load(from: path)
            #expect(profile.isComplete && profile.unreadBytes == 0)
            #expect(
                profile.snapshots.map(\.description) == [
                    "startup", "after reading the project", "after building",
                    "after releasing the graph", "end",
                ])
            #expect(profile.snapshots.allSatisfy { $0.sizedObjects })
            #expect(profile.objects.count == 15 && profile.leakScans.first?.report.cycles.count == 1)
        }

        @Test func aCutFileLoadsUpToItsLastCompleteRecord() throws {
            let path = temporaryPath("cut.hmprof")
            defer { unlink(path) }
            let tracker = freshTracker()
            try tracker.track(class: Leaf.self)
            let leaves = (0..<keep(10)).map(makeLeaf)
            try tracker.startProfile(at: path)
            try tracker.takeSnapshot(named: "one")
            let firstLength = try fileSize(path)
            try tracker.takeSnapshot(named: "two")
            try tracker.stopProfile()
            let whole = try Data(contentsOf: URL(fileURLWithPath: path))
            let endRecord = whole.count - 6  // kind, zero length, checksum
            for cut in [firstLength, firstLength + 1, endRecord + 1, whole.count - 1] {
                try whole.prefix(cut).write(to: URL(fileURLWithPath: path))
                let profile = try Profile.load(from: path)
                let lastWhole = cut >= endRecord ? endRecord : firstLength
                #expect(!profile.isComplete)
                #expect(profile.snapshots.count == (cut >= endRecord ? 2 : 1), "cut at \(cut)")
                #expect(profile.unreadBytes == cut - lastWhole, "cut at \(cut)")
            }
            _ = keep(leaves)
        }

        @Test func aProgramKilledWithSIGKILLLeavesALoadableProfile() throws {
            let path = temporaryPath("killed.hmprof")
            defer { unlink(path) }
            let run = try runProduct(
                "heapmonitor-bench",
                ["profile", "--objects", "2000", "--snapshots", "6", "--kill-after", "3", "--keep", path])
            #expect(run.reason == .uncaughtSignal && run.status == SIGKILL)
            let profile = try Profile.load(from: path)
            #expect(!profile.isComplete)
            #expect(profile.snapshots.map(\.description) == ["snapshot 0", "snapshot 1", "snapshot 2"])
            #expect(profile.snapshots.allSatisfy { $0.objectIDs.count == 2000 })
        }

        @Test func writeErrorsStopTheProfileNotTheProgram() throws {
            let tracker = freshTracker()
            #expect(throws: ProfileError.self) { try tracker.startProfile(at: "/nonexistent-directory/x.hmprof") }
            try tracker.startProfile(at: "/dev/full")
            try tracker.takeSnapshot(named: "into a full disk")
            let failure = #expect(throws: ProfileError.self) { try tracker.stopProfile() }
            #expect(failure?.path == "/dev/full")
            #expect(failure?.problem == .unwritable("No space left on device"))
            #expect(tracker.snapshots.count == 1)
        }
    }
}

func fileSize(_ path: String) throws -> Int {
    try FileManager.default.attributesOfItem(atPath: path)[.size] as! Int
}
