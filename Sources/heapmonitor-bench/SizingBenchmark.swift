import ArgumentParser
import CHeapMonitor
import HeapMonitor
import HeapMonitorSamples

/// `sizing`: deep size of the node tree against a hand-written traversal that
/// knows the layout, and against the allocator's in-use delta.
struct SizingBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sizing",
        abstract: "Deep size of an N-node tree.")

    @Option(help: "Nodes in the tree.")
    var nodes = 100_000

    @Option(help: "Timed repetitions (the median is reported).")
    var repetitions = 11

    func validate() throws {
        guard nodes > 0 else { throw ValidationError("--nodes must be positive") }
    }

    func run() {
        let before = allocatorInUse()
        let root = buildNodeTree(count: nodes)
        let allocatorBytes = allocatorInUse() - before

        var total = 0, floorTotal = 0
        let times = medianNanoseconds(
            repetitions: repetitions,
            [
                { total = deepSize(of: root) },
                { floorTotal = handWrittenSize(of: root) },
            ])
        let library = times[0], floor = times[1]
        withExtendedLifetime(root) {}

        let perNode = library / Double(nodes), floorPerNode = floor / Double(nodes)
        print("nodes: \(nodes)")
        print(
            "deep size: \(total) bytes; "
                + "allocator delta: \(allocatorBytes) bytes (\(percent(total, of: allocatorBytes)))"
        )
        print("hand-written floor: \(floorTotal) bytes")
        print("library: \(perNode) ns/node; floor: \(floorPerNode) ns/node (\(perNode / floorPerNode)x)")
        printResult(
            bench: "sizing",
            [
                "nodes": Double(nodes), "ns_per_node": perNode, "floor_ns_per_node": floorPerNode,
                "total_bytes": Double(total), "allocator_bytes": Double(allocatorBytes),
            ])
    }

    private func percent(_ part: Int, of whole: Int) -> String {
        let value = (Double(part) / Double(whole) - 1) * 100
        return (value >= 0 ? "+" : "") + String((value * 1000).rounded() / 1000) + " %"
    }
}

/// The floor no general sizer can beat: knows `Node`'s layout and the blocks
/// it owns, and sums their real sizes with no type dispatch and no dedup set
/// (a tree shares nothing).
func handWrittenSize(of root: Node) -> Int {
    let nameOffset = 16, childrenOffset = 32, attrsOffset = 40
    func blockAndSideTable(_ object: UnsafeRawPointer) -> Int {
        var bytes = hm_block_size(object)
        let bits = object.load(fromByteOffset: 8, as: UInt64.self)
        if bits >> 62 == 0b11 {
            bytes += hm_block_size(UnsafeRawPointer(bitPattern: UInt((bits & ((1 << 62) - 1)) << 3))!)
        }
        return bytes
    }
    func isImmortal(_ object: UnsafeRawPointer) -> Bool {
        object.load(fromByteOffset: 8, as: UInt64.self) & 0x8000_0000_FFFF_FFFF == 0x8000_0000_FFFF_FFFF
    }
    var total = 0
    var stack = [UnsafeRawPointer(Unmanaged.passUnretained(root).toOpaque())]
    while let node = stack.popLast() {
        total += blockAndSideTable(node)
        let nameObject = node.load(fromByteOffset: nameOffset + 8, as: UInt.self)
        if nameObject >> 60 == 0 { total += hm_block_size(UnsafeRawPointer(bitPattern: nameObject)!) }
        let children = node.load(fromByteOffset: childrenOffset, as: UnsafeRawPointer.self)
        if !isImmortal(children) {
            total += hm_block_size(children)
            let count = children.load(fromByteOffset: 16, as: Int.self)
            for index in 0..<count {
                stack.append(children.load(fromByteOffset: 32 + 8 * index, as: UnsafeRawPointer.self))
            }
        }
        let attrs = node.load(fromByteOffset: attrsOffset, as: UnsafeRawPointer.self)
        if !isImmortal(attrs) { total += hm_block_size(attrs) }
    }
    return total
}
