import BitCollections
import DequeModule
import Glibc
import HashTreeCollections
import HeapModule
import HeapMonitor
import OrderedCollections
import _RopeModule

// Each of swift-collections' containers built twice on a fresh thread; the
// second build is measured against the allocator (glibc keeps freed blocks
// in a thread's cache until it ends, so the delta is read after the join).
// One line per container for Scripts/check-collections.sh:
// `NAME deep BYTES allocated BYTES tree BYTES opaque COUNT` (the referent
// tree's total, and how many types were left unread); then who holds the
// sessions kept in a `TreeDictionary` behind a global, and the names of a
// private and a local class (the same in every run).

/// A body run on a thread of its own, joined before returning.
final class ThreadJob {
    let body: () -> Void
    init(_ body: @escaping () -> Void) { self.body = body }

    func run() {
        var thread = pthread_t()
        let created = pthread_create(
            &thread, nil,
            { context in
                Unmanaged<ThreadJob>.fromOpaque(context!).takeUnretainedValue().body()
                return nil
            }, Unmanaged.passUnretained(self).toOpaque())
        precondition(created == 0, "pthread_create failed")
        pthread_join(thread, nil)
    }
}

func report<T>(_ name: String, _ build: @escaping () -> T) {
    var value: T?
    ThreadJob { value = build() }.run()
    value = nil
    let job = ThreadJob { value = build() }
    let before = allocatorInUse()
    job.run()
    let allocated = allocatorInUse() - before
    let sizer = Sizer()
    let deep = sizer.deepSize(of: value!) - MemoryLayout<T>.size
    let tree = Sizer().sizedTree(of: value!, resolutionLevel: 6).size - MemoryLayout<T>.size
    if !sizer.opaqueTypeNames.isEmpty { print("\(name) opaque types: \(sizer.opaqueTypeNames)") }
    print("\(name) deep \(deep) allocated \(allocated) tree \(tree) opaque \(sizer.opaqueTypeNames.count)")
}

/// A string too long to be stored inline.
func text(_ index: Int) -> String { "value number \(index) of the test" }

/// Not top-level code: that would be isolated to the main actor, which the
/// measuring threads are not on.
enum Containers {
    static let count = 20_000

    static func reportAll() {
        report("TreeDictionary") {
            var tree = TreeDictionary<Int, String>()
            for index in 0..<count { tree[index] = text(index) }
            return tree
        }
        report("TreeSet") { TreeSet((0..<count).map(text)) }
        report("BigString") {
            var string = BigString()
            for index in 0..<count { string.append(contentsOf: text(index)) }
            return string
        }
        report("Deque") {
            var deque = Deque<String>(minimumCapacity: 64)
            // Both ends: the ring wraps around.
            for index in 0..<count {
                if index.isMultiple(of: 2) { deque.append(text(index)) } else { deque.prepend(text(index)) }
            }
            return deque
        }
        report("OrderedDictionary") {
            var dictionary = OrderedDictionary<String, [Int]>()
            for index in 0..<count { dictionary[text(index)] = [index, index] }
            return dictionary
        }
        report("OrderedSet") { OrderedSet((0..<count).map(text)) }
        report("Heap") { Heap((0..<count).map(text)) }
        report("BitSet") { BitSet((0..<count * 10).filter { $0.isMultiple(of: 3) }) }
        report("BitArray") { BitArray((0..<count * 10).map { $0.isMultiple(of: 3) }) }
    }
}

/// Sessions indexed by a persistent trie, behind a global.
final class Session {
    let id: Int
    var log: [String] = []
    init(id: Int) { self.id = id }
}

final class SessionIndex {
    nonisolated(unsafe) static let shared = SessionIndex()
    var byID = TreeDictionary<Int, Session>()
}

private final class PrivateSession {}

/// Who holds the sessions: the retainer paths of a heap graph, taken in a
/// forked child, go through the trie's nodes to the global.
func reportHolders() throws {
    let tracker = Tracker.shared
    try tracker.startWatchingForLeaks()
    for id in 0..<1000 { SessionIndex.shared.byID[id] = Session(id: id) }
    let analysis = HeapGraphAnalysis(try tracker.captureHeapGraph())
    for group in analysis.retainers(ofClass: "CollectionsSizing.Session").prefix(1) {
        print("holders \(group.count) path \(group.path)")
    }
}

func reportNames() {
    final class LocalSession {}
    print("names \(Sizer().sizedTree(of: PrivateSession()).typeName) \(Sizer().sizedTree(of: LocalSession()).typeName)")
}

Containers.reportAll()
try reportHolders()
reportNames()
