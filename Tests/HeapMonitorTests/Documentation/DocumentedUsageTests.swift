import CHeapMonitor
import Foundation
import HeapMonitor
import HeapMonitorTesting
import Testing

// The README's and the DocC catalog's examples, nearly verbatim, so that
// the documentation cannot drift from the API.

private final class Node {
    var children: [Node] = []
    var label = String(repeating: "node label ", count: 3)
}

private final class Document {
    var title = String(repeating: "title ", count: 8)
    var nodes = (0..<keep(10)).map { _ in Node() }
}

extension TrackerSuite {
    @Suite("Documented usage")
    struct DocumentedUsageTests {
        /// README "In a running program: forked analysis".
        @Test func forkedAnalysisExample() throws {
            let tracker = freshTracker()
            try tracker.track(class: Node.self)
            let nodes = (0..<keep(50)).map { _ in Node() }
            var printed: [String] = []
            do {
                let snapshot = try tracker.takeSnapshot(named: "under load")
                printed.append("\(snapshot.trackedBytes)")
            } catch {
                printed.append("no snapshot: \(error)")
            }
            #expect(printed == ["\(try tracker.takeSnapshot().trackedBytes)"])
            #expect(tracker.lastIsolatedAnalysis != nil, "the default is forked")
            tracker.isolation = .forked(timeout: .seconds(10))
            #expect(tracker.isolation.timeout == .seconds(10))
            tracker.isolation = .inProcess
            #expect(!tracker.isolation.isForked)
            #expect(try tracker.takeSnapshot().objects.count == 50)
            _ = keep(nodes)
        }

        /// README "Tracking and snapshots", "Profiles and off-line statistics"
        /// and GettingStarted "Track a class", "Record and analyse".
        @Test func trackingAndProfileExamples() throws {
            let directory = NSTemporaryDirectory() + "heapmonitor-docs-\(getpid())"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let profilePath = directory + "/heap.hmprof", pagePath = directory + "/heap.html"

            let tracker = freshTracker()
            try tracker.track(class: Node.self, resolutionLevel: 1, trace: true)
            let cache = Document()
            try tracker.track(cache, name: "cache")
            try tracker.startProfile(at: profilePath)
            var nodes = (0..<keep(20)).map { _ in Node() }
            let snapshot = try tracker.takeSnapshot(named: "after load")
            #expect(snapshot.objects.count == 31, "the twenty nodes, the cache and its ten nodes")
            nodes.removeLast(5)
            tracker.startPeriodicSnapshots(every: .milliseconds(100))
            tracker.stopPeriodicSnapshots()
            try tracker.takeSnapshot(named: "end")
            try tracker.stopProfile()
            #expect(tracker.objects(ofClass: "Node").filter { !$0.isAlive }.allSatisfy { $0.death! >= $0.birth })
            try tracker.startCensus()
            let counted = Node()
            #expect(tracker.census().contains { $0.className.hasSuffix("Node") && $0.liveCount >= 1 })
            tracker.stopCensus()
            _ = keep(counted)

            var stats = try MemStats(loading: [profilePath])
            stats.sort(by: [.size])
            let printed = StatsReport.objects(stats.filtered(className: "Node").limited(to: 10))
            #expect(printed.contains("Node") && printed.split(separator: "\n").count == 11)
            try HTMLReport(profile: try Profile.load(from: profilePath)).write(to: pagePath)
            #expect(try String(contentsOfFile: pagePath, encoding: .utf8).contains("after load"))
            _ = keep(nodes)
        }

        /// README "Leaked reference cycles" and GettingStarted "Find leaked cycles".
        @Test func leakExamples() throws {
            let tracker = freshTracker()
            try tracker.startWatchingForLeaks()
            defer { tracker.stopWatchingForLeaks() }
            do {
                let parent = Node(), child = Node()
                parent.children = [child]
                child.children = [parent]
            }
            let report = try tracker.findLeaks()
            #expect(report.description.contains("1 × Node.children[…] → Node.children[…] → Node"))
            let path = NSTemporaryDirectory() + "heapmonitor-docs-\(getpid()).dot"
            defer { unlink(path) }
            try report.writeDOT(to: path)
            #expect(try String(contentsOfFile: path, encoding: .utf8).hasPrefix("digraph leaks"))
        }

        /// README "The switches" and the HostSwitches article.
        @Test func hostSwitchExamples() throws {
            let (switches, arguments) = try MonitorSwitches.parse(
                ["tool", "--debug=memory", "build", "--verbose"], environment: [:])
            #expect(
                switches.takesSnapshots && arguments == ["tool", "build", "--verbose"], "the program's name stays first"
            )
            let printed = PrintedLines()
            let host = try HostMonitor(switches: switches, classes: [Node.self], output: { printed.append($0) })
            try host.instant("after reading the project")
            try host.finish()
            #expect(printed.joined.contains("after reading the project"))
        }
    }
}

/// The sizing examples need no tracker, and compare with glibc's counters:
/// outside `TrackerSuite`, so the thread-sanitizer run (another allocator)
/// leaves them out.
@Suite("Documented sizing")
struct DocumentedSizingTests {
    /// README "Using the library" and GettingStarted "Size a value".
    @Test func sizingExamples() {
        let document = Document(), a = Document(), b = Document()
        b.nodes = a.nodes  // shared
        AllocatorOracle.expectExact { Document() }
        #expect(flatSize(of: document) == hm_block_size(Unmanaged.passUnretained(document).toOpaque()))
        let sizes = deepSizes(of: [a, b])
        #expect(sizes[0] == deepSize(of: a), "the first value counts all it holds")
        #expect(
            sizes[1] == flatSize(of: b) + deepSize(of: b.title) - MemoryLayout<String>.size,
            "shared data counts for the first value only")
        let tree = sizedTree(of: document, resolutionLevel: 2)
        #expect(TreeReport(referentLimit: 10).render(tree).contains("nodes"))
        let sizer = Sizer()
        sizer.exclude(a.nodes[0])
        let first = sizer.deepSize(of: a), second = sizer.deepSize(of: b)
        #expect(first > second)
    }
}
