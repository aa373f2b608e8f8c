@testable import HeapMonitor
@testable import HeapMonitorAnalysis
@testable import HeapMonitorModel
@testable import HeapMonitorRecording
import Foundation
import Synchronization
import Testing

/// A node the mutating threads build, rewire and free; references point
/// only from older nodes to newer ones, so the threads never leak a cycle.
private final class Churn: @unchecked Sendable {
    var child: Churn?
    var items: [Int]
    var label: String

    init(_ seed: Int) {
        items = Array(0..<(seed % 7))
        label = "churn node number \(seed)"
    }
}

private final class Planted { var partner: Planted? }

extension TrackerSuite {
    /// What every live-server feature rests on: snapshots and leak scans of
    /// a heap that other threads change and free while they run.
    @Suite("Live heap under mutation")
    struct LiveHeapStressTests {
        @Test func snapshotsAndLeakScansOfAMutatingHeap() throws {
            let tracker = Tracker.shared
            tracker.clear()
            defer { tracker.clear() }
            try tracker.startWatchingForLeaks()
            defer { tracker.stopWatchingForLeaks() }
            try tracker.track(class: Churn.self, resolutionLevel: 1)
            let planted = 3
            for _ in 0..<planted {
                let a = Planted(), b = Planted()
                a.partner = b
                b.partner = a
            }
            let stop = Atomic(false)
            let operations = Atomic(0)
            let threads = (0..<4).map { thread in
                Thread {
                    var mine = (0..<100).map { Churn(thread * 1_000_000 + $0) }
                    var step = thread
                    while !stop.load(ordering: .relaxed) {
                        step &+= 7919
                        let index = step % mine.count
                        switch step % 4 {
                        case 0: mine[index] = Churn(step)  // free one, insert one
                        case 1: mine[index].child = Churn(step)  // replace a reference
                        case 2: mine[index].child?.child = Churn(step)  // grow a chain
                        default: mine[index].items.append(step); mine[index].label += "."  // reallocate storage
                        }
                        operations.add(1, ordering: .relaxed)
                        // A few thousand changes between two snapshots, not
                        // millions: each object alive at a snapshot stays a record.
                        if step % 64 == 0 { usleep(1_000) }
                    }
                    _ = mine
                }
            }
            threads.forEach { $0.start() }
            defer { stop.store(true, ordering: .relaxed) }
            var failures: [AnalysisError] = []
            var sized = 0
            var wrongScans: [Int] = []
            for round in 0..<1_000 {
                do {
                    sized += try tracker.takeSnapshot(named: "round \(round)").objects.count
                    if round % 10 == 0 {
                        let report = try tracker.findLeaks()
                        let named = report.cycles.allSatisfy { $0.path.contains("Planted") }
                        if report.cycles.count != planted || !named {
                            wrongScans.append(report.cycles.count)
                        }
                    }
                } catch {
                    failures.append(error)
                }
                tracker.discardSnapshots()
            }
            stop.store(true, ordering: .relaxed)
            #expect(failures.isEmpty, "\(failures.count) analyses failed: \(Set(failures))")
            #expect(wrongScans.isEmpty, "scans that did not find exactly the \(planted) planted cycles: \(wrongScans)")
            #expect(sized > 1_000 * 100, "the snapshots sized the churning nodes")
            #expect(operations.load(ordering: .relaxed) > 10_000, "the threads mutated the heap meanwhile")
        }
    }
}
