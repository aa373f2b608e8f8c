import ArgumentParser
import Foundation
import HeapMonitor
import HeapMonitorSamples
import Synchronization

/// `live`: sized snapshots of a large tracked heap in process and in a forked
/// child, while another thread of the host runs the `tracking` loop: the
/// host's pause, the snapshot's latency, and the loop's throughput.
struct LiveBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "live", abstract: "Isolated (forked) against in-process snapshots of a live heap.")

    @Option(help: "Approximate heap of the node tree, in MB (about 440 bytes a node).")
    var heapMb = 1_000

    @Option(help: "Snapshots of each kind (the median is reported).")
    var repetitions = 5

    func validate() throws {
        guard heapMb > 0, repetitions > 0 else { throw ValidationError("--heap-mb and --repetitions must be positive") }
    }

    func run() throws {
        let tracker = Tracker.shared
        tracker.clear()
        try tracker.track(class: Node.self)
        let nodes = heapMb * 1_000_000 / 440
        let root = buildNodeTree(count: nodes)
        let residentBytes = ProcessMemory.current().residentBytes
        let loop = AllocationLoop()
        loop.start()
        defer { loop.stop() }

        // The loop's rate with nothing else going on, over as long as the
        // snapshots will take.
        loop.resetWindow()
        Thread.sleep(forTimeInterval: 1)
        let alone = loop.resetWindow()

        tracker.isolation = .inProcess
        var inProcess: [Double] = []
        for index in 0..<repetitions {
            let start = ContinuousClock.now
            _ = try tracker.takeSnapshot(named: "in process \(index)")
            inProcess.append(milliseconds(ContinuousClock.now - start))
            tracker.discardSnapshots()
        }

        tracker.isolation = .forked(timeout: .seconds(600))
        var isolated: [Double] = [], pauses: [Double] = [], forks: [Double] = [], stalls: [Double] = []
        var during = LoopWindow()
        for index in 0..<repetitions {
            loop.resetWindow()
            let start = ContinuousClock.now
            let snapshot = try tracker.takeSnapshot(named: "isolated \(index)")
            isolated.append(milliseconds(ContinuousClock.now - start))
            let window = loop.resetWindow()
            during.add(window)
            // The calling thread cannot run during fork(2); the others stall
            // when they fault on memory the fork is copying the tables of.
            let fork = tracker.lastIsolatedAnalysis.map { milliseconds($0.pause) } ?? 0
            forks.append(fork)
            stalls.append(window.longestGapMs)
            pauses.append(max(fork, window.longestGapMs))
            guard snapshot.objects.count == nodes else {
                throw ValidationError("sized \(snapshot.objects.count) of \(nodes)")
            }
            tracker.discardSnapshots()
        }
        withExtendedLifetime(root) {}
        let ratio = during.rate / alone.rate
        tracker.clear()

        print("heap: \(nodes) tracked nodes, RSS \(ByteCount.format(residentBytes))")
        print("in-process snapshot: \(rounded(median(inProcess))) ms (the calling thread is busy throughout)")
        print(
            "isolated snapshot:   \(rounded(median(isolated))) ms "
                + "(\(rounded(median(isolated) / median(inProcess)))x the in-process one)")
        print(
            "host pause per isolated snapshot: \(rounded(median(pauses))) ms "
                + "(\(rounded(median(pauses) / (Double(residentBytes) / 1e9))) ms per GB of RSS; fork(2) held the "
                + "calling thread \(rounded(median(forks))) ms, "
                    + "the loop thread's longest stall \(rounded(median(stalls))) ms)"
        )
        print(
            "loop throughput during isolated snapshots: \(rounded(ratio * 100)) % of alone "
                + "(\(Int(during.rate)) vs \(Int(alone.rate)) allocations per second)")
        printResult(
            bench: "live",
            [
                "heap_mb": Double(heapMb), "rss_bytes": Double(residentBytes),
                "pause_ms": median(pauses), "isolated_ms": median(isolated),
                "inprocess_ms": median(inProcess), "throughput_ratio": ratio,
            ])
    }
}

private func milliseconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) * 1e3 + Double(duration.components.attoseconds) / 1e15
}

/// What the loop did over one window: allocations, time, longest stall.
struct LoopWindow {
    var operations = 0
    var seconds = 0.0
    var longestGapMs = 0.0

    var rate: Double { seconds > 0 ? Double(operations) / seconds : 0 }

    mutating func add(_ other: LoopWindow) {
        operations += other.operations
        seconds += other.seconds
        longestGapMs = max(longestGapMs, other.longestGapMs)
    }
}

/// The `tracking` benchmark's loop of `Small` allocations on a thread of its
/// own, counting operations and timing its longest gap between two batches.
final class AllocationLoop: @unchecked Sendable {
    private let running = Atomic(true)
    private let operations = Atomic(0)
    /// Longest gap in the current window, in nanoseconds.
    private let longestGap = Atomic(0)
    private let done = DispatchSemaphore(value: 0)
    private var windowStart = ContinuousClock.now
    private var windowOperations = 0

    func start() {
        Thread.detachNewThread { [self] in
            var last = DispatchTime.now().uptimeNanoseconds
            var index = 0
            while running.load(ordering: .relaxed) {
                for _ in 0..<256 { escape(Small(index)); index &+= 1 }
                operations.add(256, ordering: .relaxed)
                let now = DispatchTime.now().uptimeNanoseconds
                let gap = Int(now - last)
                if gap > longestGap.load(ordering: .relaxed) { longestGap.store(gap, ordering: .relaxed) }
                last = now
            }
            done.signal()
        }
    }

    func stop() {
        running.store(false, ordering: .relaxed)
        done.wait()
    }

    /// Ends the current window and starts the next.
    @discardableResult
    func resetWindow() -> LoopWindow {
        let now = ContinuousClock.now
        let total = operations.load(ordering: .relaxed)
        let elapsed = now - windowStart
        let window = LoopWindow(
            operations: total - windowOperations,
            seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18,
            longestGapMs: Double(longestGap.exchange(0, ordering: .relaxed)) / 1e6)
        windowStart = now
        windowOperations = total
        return window
    }
}
