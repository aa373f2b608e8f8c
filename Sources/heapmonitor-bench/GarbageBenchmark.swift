import ArgumentParser
import HeapMonitor

/// The garbage workload's object: references of every shape the contract names.
final class GraphNode {
    var next: GraphNode?
    var items: [GraphNode] = []
    var table: [Int: GraphNode] = [:]
    var link: GraphLink = .none
    var action: (() -> Int)?
    var back: GraphNode?
    var value = 0
}

enum GraphLink {
    case none
    case to(GraphNode)
}

/// Makes `parent` hold `child` through shape `shape` (field, array,
/// dictionary, enum payload, closure, optional back-reference).
func attach(_ child: GraphNode, to parent: GraphNode, shape: Int) {
    switch shape % 5 {
    case 0: parent.next = child
    case 1: parent.items.append(child)
    case 2: parent.table[parent.table.count] = child
    case 3: parent.link = .to(child)
    default: parent.action = { child.value }
    }
}

/// A tree of `objects` nodes, four children per node, each attached
/// through a shape; every seventh node also points back at its parent
/// (live cycles). Returns the root.
func liveTree(objects: Int) -> GraphNode {
    var nodes = [GraphNode()]
    nodes.reserveCapacity(objects)
    for index in 1..<objects {
        let node = GraphNode(), parent = nodes[(index - 1) / 4]
        attach(node, to: parent, shape: index)
        if index % 7 == 0 { node.back = parent }
        nodes.append(node)
    }
    return nodes[0]
}

/// `garbage`: N live objects reachable from one root through every shape,
/// with live cycles among them, plus 1,000 leaked cycles of the same shapes;
/// one full leak scan.
struct GarbageBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "garbage",
        abstract: "Leak scan over N live objects with 1,000 injected cycles.")

    @Option(help: "Live objects.")
    var objects = 1_000_000

    @Option(help: "Leaked cycles injected.")
    var injected = 1000

    @Option(help: "Timed scans (the median is reported).")
    var repetitions = 5

    func validate() throws {
        guard objects > 0, injected >= 0 else { throw ValidationError("--objects must be positive") }
    }

    func run() throws {
        let tracker = Tracker.shared
        // The in-process figure, comparable across versions; `live` sets it
        // beside the forked one.
        tracker.clear()
        tracker.isolation = .inProcess
        try tracker.startWatchingForLeaks()
        let root = liveTree(objects: objects)
        var leaked = Set<UInt>()
        for index in 0..<injected {
            let a = GraphNode(), b = GraphNode()
            attach(b, to: a, shape: index)
            attach(a, to: b, shape: index / 5)
            leaked.insert(UInt(bitPattern: Unmanaged.passUnretained(a).toOpaque()))
            leaked.insert(UInt(bitPattern: Unmanaged.passUnretained(b).toOpaque()))
        }

        var scans: [LeakReport] = []
        let time = medianNanoseconds(repetitions: repetitions, [{ scans.append(try! tracker.findLeaks()) }])[0]
        let report = scans[scans.count - 1]
        withExtendedLifetime(root) {}
        let reported = Set(report.cycles.flatMap { $0.objects.map(\.address) })
        let found = report.cycles.filter { cycle in cycle.objects.allSatisfy { leaked.contains($0.address) } }.count
        let falsePositives = reported.subtracting(leaked).count
        tracker.clear()

        print("scanned \(report.objectsScanned) objects (\(report.graphNodes) heap objects in the graph)")
        print(
            "injected \(injected) cycles; found \(found); false positives \(falsePositives); "
                + "leaked \(ByteCount.format(report.leakedBytes))"
        )
        print("scan: \(rounded(time / 1e6)) ms")
        printResult(
            bench: "garbage",
            [
                "objects": Double(objects), "injected": Double(injected), "found": Double(found),
                "false_positives": Double(falsePositives), "scan_ms": time / 1e6,
            ])
    }
}
