@testable import HeapMonitor
@testable import HeapMonitorAnalysis
@testable import HeapMonitorModel
@testable import HeapMonitorRecording
import HeapMonitorSamples
import Testing

private final class Ring {
    var next: Ring?
    var payload = [1, 2, 3]
}

/// Two-object cycles nothing else holds.
@discardableResult
private func leakRings(_ count: Int) -> Int {
    for _ in 0..<count {
        let a = Ring(), b = Ring()
        a.next = b
        b.next = a
    }
    return count
}

extension TrackerSuite {
    @Suite("Isolated analysis")
    struct IsolatedAnalysisTests {
        /// On a graph nothing changes, the forked child sees what the process
        /// sees: the same sizes, byte for byte, at every level.
        @Test(arguments: [0, 1, 2])
        func isolatedSnapshotsEqualInProcessOnes(level: Int) throws {
            let tracker = freshTracker()
            try tracker.track(class: Node.self, resolutionLevel: level)
            let tree = buildNodeTree(count: keep(2_000))
            tracker.isolation = .inProcess
            let here = try tracker.takeSnapshot(named: "in process")
            tracker.isolation = .forked
            let forked = try tracker.takeSnapshot(named: "forked")
            #expect(here.objects.count == 2_000)
            #expect(forked.objects == here.objects)
            #expect(tracker.lastIsolatedAnalysis.map { $0.resultBytes > 2_000 } == true)
            _ = keep(tree)
        }

        @Test func isolatedLeakScansEqualInProcessOnes() throws {
            let tracker = freshTracker()
            try tracker.startWatchingForLeaks()
            defer { tracker.stopWatchingForLeaks() }
            leakRings(keep(7))
            let alive = (0..<keep(100)).map { _ in Ring() }
            tracker.isolation = .inProcess
            let here = try tracker.findLeaks()
            tracker.isolation = .forked
            let forked = try tracker.findLeaks()
            #expect(here.cycles.count == 7)
            #expect(forked == here)
            _ = keep(alive)
        }

        /// A child that runs out of time leaves nothing behind: no snapshot,
        /// no profile record; the next analysis works.
        @Test func aFailedChildRecordsNothing() throws {
            let tracker = freshTracker()
            try tracker.track(class: Node.self, resolutionLevel: 2)
            let tree = buildNodeTree(count: keep(20_000))
            tracker.isolation = .forked(timeout: .milliseconds(1))
            #expect(throws: AnalysisError.timedOut(after: .milliseconds(1))) {
                try tracker.takeSnapshot(named: "too slow")
            }
            #expect(tracker.snapshots.isEmpty)
            tracker.isolation = .forked
            #expect(try tracker.takeSnapshot(named: "in time").objects.count == 20_000)
            _ = keep(tree)
        }

        /// The end of a run whose analyses fail still prints the statistics
        /// and closes the profile, and says what failed.
        @Test func finishReportsAFailedAnalysisAndDoesTheRest() throws {
            _ = freshTracker()
            var switches = MonitorSwitches()
            switches.tracksObjects = true
            switches.printsGarbage = true
            var printed: [String] = []
            let host = try HostMonitor(switches: switches, classes: [Node.self], output: { printed.append($0) })
            let tree = buildNodeTree(count: keep(20_000))
            Tracker.shared.isolation = .forked(timeout: .milliseconds(1))
            do {
                try host.finish()
                Issue.record("finish did not report the failed analyses")
            } catch {
                #expect(error.analyses.count == 2, "the last snapshot and the leak scan")
                #expect(error.analyses.allSatisfy { if case .timedOut = $0 { true } else { false } })
            }
            #expect(printed.contains { $0.hasPrefix("HeapMonitor: tracked objects") })
            #expect(printed.contains { $0.contains("timed out") })
            _ = keep(tree)
        }
    }
}
