@testable import HeapMonitorAnalysis
@testable import HeapMonitorModel
@testable import HeapMonitorRecording
import Foundation
import Testing

private final class Order {
    let lines = [Int](repeating: 1, count: 30)
}

@inline(never) private func takeOrder() -> Order { keep(Order()) }
private let takeOrderLine = #line - 1
@inline(never) private func restockOrder() -> Order { keep(Order()) }
private let restockOrderLine = #line - 1

extension TrackerSuite {
    @Suite("Allocation sites: commands")
    struct SitesCommandTests {
        @Test func sitesAndFoldedStacksNameWhereObjectsWereMade() throws {
            let path = temporaryPath("sites.hmprof")
            defer { unlink(path) }
            let tracker = freshTracker()
            try tracker.track(class: Order.self, resolutionLevel: 1, trace: true)
            try tracker.startProfile(at: path)
            var orders = (0..<keep(10)).map { _ in takeOrder() }
            orders += (0..<keep(4)).map { _ in restockOrder() }
            try tracker.takeSnapshot(named: "before")
            orders += (0..<keep(30)).map { _ in restockOrder() }
            try tracker.takeSnapshot(named: "after")
            try tracker.stopProfile()
            _ = keep(orders)

            let profile = try Profile.load(from: path)
            let sites = profile.allocationSites(at: 1)
            #expect(sites.map(\.count) == [34, 10], "\(sites)")
            let file = "/CLI/SitesCommandTests.swift"
            #expect(sites[0].site.contains("restockOrder") && sites[0].site.hasSuffix("\(file):\(restockOrderLine)"))
            #expect(sites[1].site.contains("takeOrder") && sites[1].site.hasSuffix("\(file):\(takeOrderLine)"))
            let sized = profile.snapshots[1].sizes.reduce(0, +)
            #expect(sites.map(\.bytes).reduce(0, +) == sized)

            // Growth since the first snapshot: 30 more from restocking.
            let growth = try runProduct("heapmonitor", ["sites", path, "--since", "before", "--json"])
            #expect(growth.status == 0, "\(growth.output)")
            let rows = try JSONDecoder().decode([AllocationSite].self, from: Data(growth.output.utf8))
            #expect(rows.map { $0.count - $0.countBefore } == [30, 0])
            let text = try runProduct("heapmonitor", ["sites", path, "--since", "0"]).output
            #expect(text.contains("+30") && text.contains("restockOrder"), "\(text)")

            // Folded stacks: outermost first, this test's frame above the
            // maker's, bytes adding up to the snapshot's.
            let folded = try runProduct("heapmonitor", ["folded", path]).output
            let lines = folded.split(separator: "\n")
            // One stack for takeOrder, one for each of restockOrder's two
            // calling closures.
            #expect(lines.count == 3, "\(folded)")
            var total = 0
            for line in lines {
                let bytes = try #require(Int(line.split(separator: " ").last ?? ""))
                total += bytes
                let frames = line.dropLast(String(bytes).count + 1).split(separator: ";")
                let maker = try #require(frames.lastIndex { $0.contains("Order()") && !$0.contains(" in _") })
                let test = try #require(frames.firstIndex { $0.contains("sitesAndFoldedStacks") })
                #expect(test < maker)
            }
            #expect(total == sized)
            // The Swift runtime's C++ frames are demangled.
            #expect(!folded.contains(";_ZN"), "\(folded)")
            #expect(folded.contains("swift::runJobInEstablishedExecutorContext(swift::Job*)"), "\(folded)")
            let bad = try runProduct("heapmonitor", ["sites", path, "--snapshot", "7"])
            #expect(bad.status != 0 && bad.error.contains("snapshot 7 does not exist"), "\(bad.error)")
        }
    }
}
