import ArgumentParser
import Foundation
import HeapMonitor

/// The graph workload's named global: the tree hangs from it.
nonisolated(unsafe) var graphBenchmarkRoot: GraphNode?

/// `graph`: the garbage workload's live tree held from a named global;
/// heap graph capture, dominator tree and retained sizes, beside the leak
/// scan over the same objects.
struct GraphBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "graph",
        abstract: "Heap graph, dominator tree and retained sizes over N live objects held from a global.")

    @Option(help: "Live objects.")
    var objects = 1_000_000

    @Option(help: "Timed runs (the median is reported).")
    var repetitions = 5

    @Option(help: "Keep the profile holding one heap graph here (a fuzzing seed).")
    var keep: String?

    func validate() throws {
        guard objects > 1 else { throw ValidationError("--objects must be above 1") }
    }

    func run() throws {
        let tracker = Tracker.shared
        tracker.clear()
        // In process, as the garbage benchmark: comparable across versions.
        tracker.isolation = .inProcess
        try tracker.startWatchingForLeaks()
        graphBenchmarkRoot = liveTree(objects: objects)

        // The leak scan: its graph build, and a scan that finds nothing.
        let scan = medianNanoseconds(repetitions: repetitions, [{ _ = try! tracker.findLeaks() }])[0]
        var graph = HeapGraph()
        let steps = medianNanoseconds(
            repetitions: repetitions,
            [{ graph = try! tracker.captureHeapGraph() }, { _ = DominatorTree(graph) }])
        let capture = steps[0] + steps[1]

        let before = allocatorInUse()
        let analysis = HeapGraphAnalysis(graph)
        let analysisBytes = allocatorInUse() - before
        func depth(_ node: Int) -> Int { analysis.tree.shortestPath(to: node)?.edges.count ?? 0 }
        var deepest = 0, deepestDepth = 0
        for node in 0..<graph.count {
            let length = depth(node)
            if length > deepestDepth { (deepest, deepestDepth) = (node, length) }
        }
        var path: String?
        let query = medianNanoseconds(repetitions: 100, [{ path = analysis.path(to: deepest) }])[0]

        let file = keep ?? NSTemporaryDirectory() + "heapmonitor-graph-bench-\(getpid()).hmprof"
        defer { if keep == nil { unlink(file) } }
        try tracker.startProfile(at: file)
        let empty = try fileSize(file)
        _ = try tracker.captureHeapGraph()
        let recordBytes = try fileSize(file) - empty
        try tracker.stopProfile()
        graphBenchmarkRoot = nil
        tracker.clear()

        let root = graph.roots.first { $0.name.hasSuffix("graphBenchmarkRoot") }?.name ?? "no named root"
        print("\(graph.count) nodes, \(graph.edgeCount) edges; root \(root)")
        print("deepest path: \(path?.count ?? 0) characters, \(deepestDepth) edges")
        print(
            "leak scan \(rounded(scan / 1e6)) ms; graph + dominators \(rounded(capture / 1e6)) ms "
                + "(\(rounded((capture - scan) / 1e6)) ms beyond the scan; capture "
                + "\(rounded(steps[0] / 1e6)) ms, dominators \(rounded(steps[1] / 1e6)) ms); analysis "
                + "\(analysisBytes / max(1, graph.count)) B/object; query \(rounded(query / 1e6)) ms; "
                + "record \(rounded(Double(recordBytes) / Double(max(1, graph.edgeCount)))) B/edge")
        printResult(
            bench: "graph",
            [
                "objects": Double(objects), "edges": Double(graph.edgeCount), "scan_ms": scan / 1e6,
                "graph_ms": (capture - scan) / 1e6, "bytes_per_object": Double(analysisBytes) / Double(graph.count),
                "query_ms": query / 1e6, "record_bytes_per_edge": Double(recordBytes) / Double(graph.edgeCount),
            ])
    }

    private func fileSize(_ path: String) throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
    }
}
