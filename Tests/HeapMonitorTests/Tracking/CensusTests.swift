@testable import HeapMonitor
@testable import HeapMonitorAnalysis
@testable import HeapMonitorModel
@testable import HeapMonitorRecording
import Testing

private final class Citizen { var id = 0; var tags: [String] = [] }
private final class Visitor { var id = 0 }

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
    }
}
