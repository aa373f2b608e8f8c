import ArgumentParser
import HeapMonitor
import HeapMonitorSamples

/// `heapmonitor sample`: builds a sample graph, sizes it, prints its referent
/// tree and how the size compares with what the allocator handed out.
struct SampleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sample",
        abstract: "Size a built-in sample object graph and print its referent tree."
    )

    enum Graph: String, ExpressibleByArgument, CaseIterable {
        case tree, index, strings, arrays
    }

    @Option(help: "The graph: \(Graph.allCases.map(\.rawValue).joined(separator: ", ")).")
    var graph: Graph = .tree

    @Option(help: "How many nodes, documents, strings or arrays to build.")
    var count = 10_000

    @Option(name: .customLong("level"), help: "Resolution level of the referent tree (0: the root only).")
    var resolutionLevel = 2

    @Option(help: "Referents shown per node, largest first.")
    var limit = 8

    func validate() throws {
        guard count > 0 else { throw ValidationError("--count must be positive") }
        guard resolutionLevel >= 0 else { throw ValidationError("--level must not be negative") }
        guard limit > 0 else { throw ValidationError("--limit must be positive") }
    }

    func run() {
        switch graph {
        case .tree: report { buildNodeTree(count: count) }
        case .index: report { DocumentIndex(documents: count) }
        case .strings: report { buildStrings(count: count) }
        case .arrays: report { buildNestedArrays(outer: count) }
        }
    }

    private func report<T>(_ build: () -> T) {
        let before = allocatorInUse()
        let value = build()
        let allocated = allocatorInUse() - before
        let tree = sizedTree(of: value, name: graph.rawValue, resolutionLevel: resolutionLevel)
        print(TreeReport(referentLimit: limit).render(tree))
        print()
        print(
            "deep size \(ByteCount.format(tree.size)) (\(tree.size) bytes); "
                + "allocator in-use delta while building \(ByteCount.format(allocated)) (\(allocated) bytes)")
        withExtendedLifetime(value) {}
    }
}
