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

/// A value only ever held behind an existential: its type is first met
/// by whoever reads a `Holder`'s field.
private struct Held {
    var rings: [Ring]
    var label = "held"
}

private final class Holder {
    var value: Any
    init(_ value: Any) { self.value = value }
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

        /// A child leaves to its parent the layouts it lacks (`RuntimeLookups`):
        /// the first forked snapshot takes another child, complete, and
        /// equals the in-process one; the next takes one child.
        @Test func typesMetFirstInAChildAreLaidOutByTheParent() throws {
            let tracker = freshTracker()
            try tracker.track(class: Holder.self, resolutionLevel: 2)
            let holders = (0..<keep(50)).map { _ in Holder(Held(rings: [Ring(), Ring()])) }
            tracker.isolation = .forked
            let forked = try tracker.takeSnapshot(named: "forked first")
            let first = try #require(tracker.lastIsolatedAnalysis)
            #expect(first.forks >= 2, "the existential's dynamic type was met first in a child")
            #expect(first.deferredLookups == 0)
            tracker.isolation = .inProcess
            let here = try tracker.takeSnapshot(named: "in process")
            #expect(here.objects.count == 50)
            #expect(forked.objects == here.objects)
            tracker.isolation = .forked
            _ = try tracker.takeSnapshot(named: "warm")
            #expect(tracker.lastIsolatedAnalysis?.forks == 1)
            _ = keep(holders)
        }

        /// A child blocked on a lock held at its fork is replaced by one
        /// forked once the lock is free, and the analysis succeeds.
        @Test func aBlockedChildIsReplaced() throws {
            let tracker = freshTracker()
            let lock = HeldLock(holding: .milliseconds(50))
            let value = try tracker.state.withLock { (state) throws(AnalysisError) in
                try state.analyse(
                    isolation: .forked(timeout: .seconds(30)),
                    { _ in
                        lock.acquire()
                        return 42
                    },
                    encode: { $0.varint($1) },
                    decode: { (decoder) throws(ProfileError.Problem) in try decoder.int(max: 100, "answer") })
            }
            lock.release()
            #expect(value == 42)
            #expect(tracker.lastIsolatedAnalysis.map { $0.forks >= 2 } == true, "the first child was blocked")
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
            let printed = PrintedLines()
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
            #expect(printed.all.contains { $0.hasPrefix("HeapMonitor: tracked objects") })
            #expect(printed.all.contains { $0.contains("timed out") })
            _ = keep(tree)
        }
    }
}
