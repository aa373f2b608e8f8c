@testable import HeapMonitor
@testable import HeapMonitorAnalysis
@testable import HeapMonitorModel
@testable import HeapMonitorRecording
import Foundation
import Testing

private final class Parent { var children: [Child] = [] }
private final class Child { var parent: Parent?; init(_ parent: Parent?) { self.parent = parent } }
private final class Node { var next: Node?; var label = "node" }
private final class Keyed { var table: [String: Keyed] = [:] }
private final class Member: Hashable {
    var group: Set<Member> = []
    static func == (a: Member, b: Member) -> Bool { a === b }
    func hash(into hasher: inout Hasher) { hasher.combine(ObjectIdentifier(self)) }
}
private enum Link { case none, to(Holder), pair(Int, Holder) }
private final class Holder { var link: Link = .none }
private final class Owner { var handler: (() -> Int)?; var value = 7 }
private final class Wrapped { var counter = 0; var action: (() -> Void)? }
private final class Box<T> { var value: T?; var other: Box<T>? }
private class Base { var partner: Base? }
private final class Derived: Base { var extra = [1, 2, 3] }
private protocol Peer: AnyObject {}
private final class PeerHolder: Peer { var peer: (any Peer)? }

/// Injectors: each builds one leaked cycle, drops every outside reference,
/// and returns the type names the report must show.
private let injectors: [(name: String, inject: @Sendable () -> [String])] = [
    (
        "self",
        {
            let node = Node(); node.next = node; return ["Node"]
        }
    ),
    (
        "direct",
        {
            let a = Node(), b = Node(); a.next = b; b.next = a; return ["Node"]
        }
    ),
    (
        "array",
        {
            let parent = Parent(); parent.children = [Child(nil), Child(parent)]; return ["Parent", "Child"]
        }
    ),
    (
        "dictionary value",
        {
            let a = Keyed(), b = Keyed(); a.table["b"] = b; b.table["a"] = a; return ["Keyed"]
        }
    ),
    (
        "set",
        {
            let a = Member(), b = Member(); a.group = [b]; b.group = [a]; return ["Member"]
        }
    ),
    (
        "enum payload",
        {
            let a = Holder(), b = Holder(); a.link = .to(b); b.link = .pair(3, a); return ["Holder"]
        }
    ),
    (
        "closure capturing self",
        {
            let owner = Owner(); owner.handler = { owner.value }; return ["Owner"]
        }
    ),
    (
        "closure capturing two",
        {
            let wrapped = Wrapped(), other = Wrapped()
            wrapped.action = { wrapped.counter += other.counter }
            return ["Wrapped"]
        }
    ),
    (
        "generic class",
        {
            let a = Box<Int>(), b = Box<Int>(); a.other = b; b.other = a; return ["Box<Swift.Int>"]
        }
    ),
    (
        "subclass",
        {
            let a = Derived(), b = Base(); a.partner = b; b.partner = a; return ["Derived", "Base"]
        }
    ),
    (
        "existential",
        {
            let a = PeerHolder(), b = PeerHolder(); a.peer = b; b.peer = a; return ["PeerHolder"]
        }
    ),
    (
        "ring of 1,000",
        {
            let first = Node()
            var last = first
            for _ in 1..<1000 { let node = Node(); last.next = node; last = node }
            last.next = first
            return ["Node"]
        }
    ),
]

extension TrackerSuite {
    @Suite("Leak detection")
    struct LeakDetectionTests {
        @Test(arguments: injectors.indices)
        func everyShapeOfCycleIsFound(_ index: Int) throws {
            let tracker = freshTracker()
            try tracker.startWatchingForLeaks()
            defer { tracker.stopWatchingForLeaks() }
            let names = injectors[index].inject()
            let report = try tracker.findLeaks()
            #expect(report.cycles.count == 1, "\(injectors[index].name): \(report.description)")
            let cycle = try #require(report.cycles.first)
            for name in names {
                #expect(
                    cycle.objects.contains { $0.typeName.hasSuffix("." + name) },
                    "\(injectors[index].name) names \(name)")
            }
            #expect(!cycle.edges.isEmpty && cycle.edges.allSatisfy { !$0.path.contains("?") }, "\(cycle.edges)")
            #expect(cycle.bytes >= cycle.objects.reduce(0) { $0 + $1.size })
            if injectors[index].name == "ring of 1,000" { #expect(cycle.objects.count == 1000) }
        }

        @Test func pathsNameTheFields() throws {
            let tracker = freshTracker()
            try tracker.startWatchingForLeaks()
            defer { tracker.stopWatchingForLeaks() }
            do {
                let parent = Parent()
                parent.children = [Child(nil), Child(nil), Child(nil), Child(parent)]
            }
            let report = try tracker.findLeaks()
            let cycle = try #require(report.cycles.first)
            #expect(Set(cycle.edges.map(\.path)) == ["children[3]", "parent"])
            #expect(
                cycle.path == "Parent.children[3] → Child.parent → Parent"
                    || cycle.path == "Child.parent → Parent.children[3] → Child")
            #expect(report.description.contains("1 leaked cycle"))
        }

        /// Random graphs of every shape, all held from a root: nothing is
        /// reported, however they reference each other.
        @Test(arguments: [1, 2, 3, 4, 5])
        func reachableGraphsAreNeverReported(_ seed: UInt64) throws {
            let tracker = freshTracker()
            try tracker.startWatchingForLeaks()
            defer { tracker.stopWatchingForLeaks() }
            var random = SplitMix(seed: seed)
            var nodes: [Node] = (0..<300).map { _ in Node() }
            var parents: [Parent] = [], keyed: [Keyed] = [], holders: [Holder] = [], owners: [Owner] = []
            for node in nodes { node.next = nodes[Int(random.next() % 300)] }
            for index in 0..<100 {
                let parent = Parent()
                parent.children = (0..<Int(random.next() % 4)).map { _ in Child(random.next() % 2 == 0 ? parent : nil) }
                parents.append(parent)
                let table = Keyed()
                table.table["\(index)"] = random.next() % 2 == 0 ? table : Keyed()
                keyed.append(table)
                let holder = Holder()
                holder.link = random.next() % 2 == 0 ? .to(holder) : .pair(index, Holder())
                holders.append(holder)
                let owner = Owner()
                owner.handler = { owner.value + index }
                owners.append(owner)
            }
            let report = try tracker.findLeaks()
            #expect(report.cycles.isEmpty, "\(report.description)")
            #expect(report.objectsScanned >= 700)
            nodes.removeAll()
            _ = (parents, keyed, holders, owners)
        }

        @Test func objectsHeldOnlyByALocalVariableAreAlive() throws {
            let tracker = freshTracker()
            try tracker.startWatchingForLeaks()
            defer { tracker.stopWatchingForLeaks() }
            let node = Node()
            node.next = node
            #expect(try tracker.findLeaks().cycles.isEmpty)
            node.next = nil
        }

        @Test func theGraphIsValidDOT() throws {
            let tracker = freshTracker()
            try tracker.startWatchingForLeaks()
            defer { tracker.stopWatchingForLeaks() }
            _ = injectors[2].inject()
            _ = injectors[8].inject()
            let dot = try tracker.findLeaks().dot
            #expect(dot.hasPrefix("digraph leaks {") && dot.hasSuffix("}\n"))
            #expect(dot.components(separatedBy: "subgraph cluster_").count == 3)
            #expect(dot.contains("label=\" children[1] \"") && dot.contains("Box<Swift.Int>"))
            #expect(LeakReport.quoted("a\"b\\c\nd") == "\"a\\\"b\\\\c\\nd\"")

            // graphviz draws it (.ci/run installs Debian's graphviz).
            let path = temporaryPath("leaks.dot")
            defer { unlink(path) }
            try tracker.findLeaks().writeDOT(to: path)
            let graphviz = try runTool("dot", ["-Tsvg", path])
            #expect(graphviz.status == 0, "graphviz's dot must be installed (apt-get install graphviz)")
            let svg = graphviz.output
            #expect(svg.contains("<svg") && svg.contains("children[1]") && svg.contains("cycle: "))
        }
    }
}

/// A small deterministic generator for the random graphs.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension TrackerSuite.LeakDetectionTests {
    @Test func cyclesOfOneShapeAreOneGroup() throws {
        let tracker = freshTracker()
        try tracker.startWatchingForLeaks()
        defer { tracker.stopWatchingForLeaks() }
        for _ in 0..<200 {
            let parent = Parent()
            parent.children = [Child(parent)]
        }
        do {
            let node = Node()
            node.next = node
        }
        let report = try tracker.findLeaks()
        #expect(report.cycles.count == 201)
        let groups = report.groups
        #expect(groups.map(\.count) == [200, 1])
        let shared = try #require(groups.first)
        // Walked from the first class by name: private names no longer carry
        // an address that decided it differently from run to run.
        #expect(shared.shape == "Child.parent → Parent.children[…] → Child")
        #expect(shared.bytes == report.cycles.filter { $0.objects.count == 2 }.reduce(0) { $0 + $1.bytes })
        #expect(report.description.contains("200 × Child.parent → Parent.children[…] → Child"))
        #expect(report.dot.components(separatedBy: "subgraph cluster_").count == 3)
        #expect(report.dot.contains("200 × Child.parent → Parent.children[…]"))
    }
}
