@testable import HeapMonitor
@testable import HeapMonitorAnalysis
@testable import HeapMonitorModel
@testable import HeapMonitorRecording
import Testing

/// Two classes, five objects, three snapshots: object 3 appears in the
/// second, object 1 goes after the second, object 0 grows.
private func sampleProfile() -> Profile {
    var profile = Profile(path: "sample.hmprof")
    profile.classNames = ["App.Node", "App.Leaf"]
    profile.traces = [["App.makeLeaf() + 12 (app)", "main + 40 (app)"]]
    profile.objects = [
        .init(classID: 0, name: "root", birth: .seconds(0.1), death: nil, resolutionLevel: 1, traceID: nil),
        .init(classID: 1, name: nil, birth: .seconds(0.2), death: .seconds(2.5), resolutionLevel: 0, traceID: 0),
        .init(classID: 1, name: "b", birth: .seconds(0.3), death: nil, resolutionLevel: 0, traceID: 0),
        .init(classID: 1, name: "a", birth: .seconds(1.5), death: nil, resolutionLevel: 0, traceID: nil),
        .init(classID: 0, name: nil, birth: .seconds(0.05), death: .seconds(0.9), resolutionLevel: 0, traceID: nil),
    ]
    let memory = ProcessMemory(virtualBytes: 1 << 30, residentBytes: 1 << 24, allocatorBytes: 1 << 22)
    func snapshot(_ time: Duration, _ description: String, _ sizes: [Int: Int]) -> Snapshot {
        let ids = sizes.keys.sorted()
        return Snapshot(
            description: description, time: time, memory: memory, monitorBytes: 100, liveObjectCount: ids.count,
            objects: ids.map { Snapshot.ObjectSize(object: $0, size: sizes[$0]!, flatSize: 32) })
    }
    profile.snapshots = [
        snapshot(.seconds(1.0), "start", [0: 1000, 1: 300, 2: 200]),
        snapshot(.seconds(2.0), "middle", [0: 5000, 1: 300, 2: 200, 3: 700]),
        snapshot(.seconds(3.0), "end", [0: 4000, 2: 200, 3: 700]),
    ]
    profile.snapshots[1].setReferentTree([SizedNode(name: "children", typeName: "Array<Leaf>", flatSize: 4000)], at: 0)
    profile.isComplete = true
    return profile
}

@Suite("MemStats")
struct MemStatsTests {
    @Test func rowsCarryLargestPeakAndLastSizes() throws {
        let stats = MemStats(profiles: [sampleProfile()])
        let root = try #require(stats.row(id: 0))
        #expect((root.maxSize, root.peakSize, root.lastSize, root.snapshotCount) == (5000, 5000, 4000, 3))
        let freed = try #require(stats.row(id: 1))
        #expect((freed.maxSize, freed.peakSize, freed.lastSize, freed.death) == (300, 300, 300, .seconds(2.5)))
        #expect(stats.row(id: 4)?.snapshotCount == 0)
    }

    @Test func sortingByEachKey() {
        var stats = MemStats(profiles: [sampleProfile()])
        stats.sort(by: [.size])
        #expect(stats.rows.map(\.id) == [0, 3, 1, 2, 4])
        stats.sort(by: [.size], reverse: true)
        #expect(stats.rows.map(\.id) == [4, 2, 1, 3, 0])
        stats.sort(by: [.birth])
        #expect(stats.rows.map(\.id) == [4, 0, 1, 2, 3])
        stats.sort(by: [.death])
        #expect(stats.rows.map(\.id) == [4, 1, 0, 2, 3])
        stats.sort(by: [.name])
        #expect(stats.rows.map(\.id) == [1, 4, 3, 2, 0])
        stats.sort(by: [.className, .size])
        #expect(stats.rows.map(\.id) == [3, 1, 2, 0, 4])
        stats.sort(by: [.peak])
        #expect(stats.rows.map(\.id).prefix(2) == [0, 3])
    }

    @Test func filteringAndLimiting() {
        var stats = MemStats(profiles: [sampleProfile()])
        stats.sort(by: [.size])
        #expect(stats.filtered(className: "leaf").rows.map(\.id) == [3, 1, 2])
        #expect(stats.filtered(className: "nothing").count == 0)
        #expect(stats.limited(to: 2).rows.map(\.id) == [0, 3])
        #expect(stats.limited(toFraction: 0.4).rows.map(\.id) == [0, 3])
        #expect(stats.limited(toFraction: 0.01).count == 1)
        #expect(stats.filtered(className: "Leaf").limited(to: 1).rows.map(\.id) == [3])
    }

    @Test func summaryPerSnapshotAndClass() throws {
        let summary = MemStats(profiles: [sampleProfile()]).summary()
        let middle = summary.filter { $0.snapshot == 1 }
        #expect(middle.map(\.className) == ["App.Node", "App.Leaf"])
        let leaves = try #require(middle.last)
        #expect((leaves.count, leaves.totalBytes, leaves.averageBytes) == (3, 1200, 400))
        #expect(abs(leaves.share - 1200.0 / 6200.0) < 1e-9)
        #expect(
            MemStats(profiles: [sampleProfile()]).filtered(className: "Node").summary().allSatisfy {
                $0.className == "App.Node"
            })
    }

    @Test func diffBetweenSnapshots() throws {
        let stats = MemStats(profiles: [sampleProfile()])
        let diff = try #require(stats.diff(from: 0, to: 2))
        #expect(diff.growth == 4900 - 1500)
        #expect(diff.newObjects.map(\.id) == [3])
        #expect(diff.freedObjects.map(\.id) == [1])
        let node = try #require(diff.classes.first { $0.className == "App.Node" })
        #expect((node.bytesBefore, node.bytesAfter, node.new, node.freed) == (1000, 4000, 0, 0))
        let leaf = try #require(diff.classes.first { $0.className == "App.Leaf" })
        #expect((leaf.countBefore, leaf.countAfter, leaf.new, leaf.freed) == (2, 2, 1, 1))
        #expect(stats.diff(from: 0, to: 7) == nil)
    }

    @Test func profilesAreAddressedByIdentityNotPosition() throws {
        var second = sampleProfile()
        second.snapshots[2] = second.snapshots[1]
        let first = sampleProfile()
        #expect(first.id != second.id, "two loads of one file are two profiles")
        let stats = MemStats(profiles: [first, second])
        #expect(stats.profile(withID: second.id)?.snapshots[2].description == "middle")
        #expect(stats.row(id: 0)?.profile == first.id)
        #expect(stats.row(id: 0, in: second.id)?.lastSize == 5000)
        #expect(stats.row(id: 0, in: sampleProfile().id) == nil, "a profile these stats do not hold")
        let runs = try #require(stats.diff(from: 2, in: first.id, to: 2, in: second.id))
        #expect(runs.isAcrossRuns && (runs.fromProfile, runs.toProfile) == (first.id, second.id))
        #expect(runs.newObjects.isEmpty && runs.growth == 6200 - 4900)
        let within = try #require(stats.diff(from: 0, in: second.id, to: 2, in: second.id))
        #expect(!within.isAcrossRuns && within.newObjects.map(\.id) == [3])
        #expect(StatsReport.diff(runs, in: stats).contains("sample.hmprof snapshot 2 \"middle\""))
        #expect(StatsReport.diff(runs, in: MemStats(profiles: [first])) == "the diff's profiles are not among these")
        let summary = stats.summary()
        #expect(Set(summary.map(\.profile)) == [first.id, second.id])
    }

    @Test func reportsAreAlignedAndInHumanUnits() throws {
        var stats = MemStats(profiles: [sampleProfile()])
        stats.sort(by: [.size])
        let lines = StatsReport.objects(stats).split(separator: "\n")
        #expect(lines.count == 6)
        #expect(lines[1].contains("Node") && lines[1].contains("root") && lines[1].contains("4.9 KiB"))
        #expect(Set(lines.map { $0.count }).count <= 2, "columns line up")
        let summary = StatsReport.summary(stats)
        #expect(summary.contains("snapshot 1 \"middle\"") && summary.contains("80.6 %"))
        let diff = StatsReport.diff(try #require(stats.diff(from: 0, to: 2)), in: stats)
        #expect(diff.contains("+3.3 KiB") && diff.contains("new objects (1)") && diff.contains("freed objects (1)"))
        let object = StatsReport.object(try #require(stats.row(id: 1)), in: stats)
        #expect(object.contains("died 2.500 s") && object.contains("App.makeLeaf()"))
        #expect(StatsReport.object(try #require(stats.row(id: 0)), in: stats).contains("children"))
    }
}
