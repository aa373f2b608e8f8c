@testable import HeapMonitorAnalysis
@testable import HeapMonitorModel
@testable import HeapMonitorRecording
import Foundation
import Testing

final class CachedEntry {
    let payload: [Int]
    init(_ size: Int) { payload = Array(repeating: 7, count: size) }
}

final class EntryCache {
    nonisolated(unsafe) static let shared = EntryCache()
    var entries: [Int: CachedEntry] = [:]
}

final class LooseEntry { var partner: LooseEntry? }

extension TrackerSuite {
    @Suite("Who holds it: commands")
    struct GraphCommandTests {
        @Test func retainersDominatorsAndSuspectsNameTheCache() throws {
            let path = temporaryPath("graph.hmprof")
            defer { unlink(path) }
            let tracker = freshTracker()
            try tracker.startWatchingForLeaks()
            defer {
                tracker.stopWatchingForLeaks()
                EntryCache.shared.entries = [:]
            }
            try tracker.startProfile(at: path)
            for key in 0..<100 { EntryCache.shared.entries[key] = CachedEntry(100) }
            let loose = keep((0..<5).map { _ in LooseEntry() })
            _ = try tracker.captureHeapGraph()
            for key in 100..<150 { EntryCache.shared.entries[key] = CachedEntry(100) }
            // Five cycles of one shape, leaked.
            for _ in 0..<5 {
                let a = LooseEntry(), b = LooseEntry()
                a.partner = b
                b.partner = a
            }
            _ = try tracker.findLeaks()
            _ = try tracker.captureHeapGraph()
            try tracker.stopProfile()
            _ = keep(loose)

            let profile = try Profile.load(from: path)
            #expect(profile.heapGraphs.count == 2)

            let retainers = try runProduct("heapmonitor", ["retainers", path, "--class", "CachedEntry"])
            #expect(retainers.status == 0)
            #expect(
                retainers.output.contains("150 of 150 CachedEntry")
                    && retainers.output.contains("EntryCache.shared → entries[…]"), "\(retainers.output)")
            let groups = try JSONDecoder().decode(
                [RetainerGroup].self,
                from: Data(try runProduct("heapmonitor", ["retainers", path, "--class", "CachedEntry", "--json"])
                    .output.utf8))
            #expect(groups.map(\.count) == [150])

            let dominators = try runProduct("heapmonitor", ["dominators", path, "--limit", "1", "--json"]).output
            let rows = try JSONDecoder().decode([DominatorRow].self, from: Data(dominators.utf8))
            let top = try #require(rows.first)
            #expect(top.typeName.hasSuffix(".EntryCache"), "\(top)")
            // The cache retains its 150 entries and their arrays.
            #expect(top.retainedBytes > 150 * 800)

            let step = try runProduct("heapmonitor", ["retainers", path, "--id", "\(top.node)"]).output
            #expect(step.contains("EntryCache.shared (global)"), "\(step)")

            let suspects = try runProduct("heapmonitor", ["suspects", path, "--since-graph", "1"]).output
            // A few entries may also be on a stack (conservatively): then no
            // one object dominates them.
            #expect(
                suspects.contains("of 150 CachedEntry are kept by HeapMonitorTests.EntryCache.shared → entries[…]"))
            #expect(suspects.contains("keeps 150 CachedEntry, 50 more than before (+"), "\(suspects)")

            let leaks = try runProduct("heapmonitor", ["leaks", path]).output
            #expect(leaks.contains("5 × LooseEntry.partner → LooseEntry"), "\(leaks)")

            let missing = try runProduct("heapmonitor", ["retainers", path, "--class", "NoSuchClass"])
            #expect(missing.status == 1 && missing.error.contains("no instance of NoSuchClass"))
            let noGraph = try runProduct("heapmonitor", ["dominators", path, "--graph", "3"])
            #expect(noGraph.status == 1 && noGraph.error.contains("there is no graph 3"))
        }

        @Test func theRecordSurvivesTheFile() throws {
            let graph = handBuiltGraph(
                bytes: [16, 32, 48], edges: [(0, 1), (1, 2), (2, 0)],
                roots: [(.global, "App.shared", [0]), (.stack, "thread 1", [2]), (.outside, "held from outside", [1])])
            var encoder = ByteEncoder()
            encoder.heapGraph(graph)
            let decoded = try encoder.bytes.withUnsafeBytes { bytes in
                var decoder = ByteDecoder(bytes)
                return try decoder.heapGraph()
            }
            #expect(decoded == graph)
            // Every cut of the record is an error, never a crash.
            for length in 0..<encoder.bytes.count {
                let cut = Array(encoder.bytes[..<length])
                let result = cut.withUnsafeBytes { bytes in
                    var decoder = ByteDecoder(bytes)
                    return Result { () throws(ProfileError.Problem) in try decoder.heapGraph() }
                }
                #expect(throws: ProfileError.Problem.self) { try result.get() }
            }
        }
    }
}
