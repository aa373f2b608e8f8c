import HeapMonitor
import HeapMonitorSamples
func show(_ n: SizedNode, _ d: Int) { print(String(repeating: "  ", count: d) + "\(n.name) \(n.typeName) size=\(n.size) flat=\(n.flatSize) opaque=\(n.isOpaque)"); for r in n.referents { show(r, d + 1) } }
func makeGeneric<T>(_ value: T) -> () -> T { { value } }
func makeCounter(start: Int, names: [String]) -> () -> Int { var count = start; return { count += names.count; return count } }
struct Record { var id: Int; var title: String; var tags: [String]; var owner: Node? }
final class Holder { var f: () -> Int = { 0 }; var r: Record? }
let h = Holder(); h.f = makeCounter(start: 1, names: ["a long name that is on the heap"]); h.r = Record(id: 1, title: "a title that is long enough", tags: ["tag number one is long"], owner: Node(index: 3, parent: nil))
show(sizedTree(of: h, resolutionLevel: 3), 0)
let s = Sizer(); show(s.sizedTree(of: makeGeneric("generic capture that is long"), resolutionLevel: 2), 0); print(s.opaqueTypeNames)
show(sizedTree(of: ["k1 long key long key": [1,2,3], "k2": []], resolutionLevel: 2), 0)
