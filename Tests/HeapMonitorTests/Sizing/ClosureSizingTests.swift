import HeapMonitor
import HeapMonitorSamples
import Testing

private final class Button {
    var title = String(repeating: "button title ", count: 3)
    var action: () -> Int = { 0 }
}

private func makeCounter(start: Int, names: [String]) -> () -> Int {
    var count = start  // captured by reference: a box
    return {
        count += names.count
        return count
    }
}

// Kept generic in optimised builds too: a specialised copy would capture a
// concrete type, which is not what the opaque-capture test needs.
@_semantics("optimize.sil.specialize.generic.never")
@inline(never)
private func makeGeneric<T>(_ value: T) -> () -> T { { value } }

@Suite("Closures")
struct ClosureSizingTests {
    @Test func contextsAndCapturesAreSized() {
        AllocatorOracle.expectExact { makeCounter(start: 1, names: (0..<10).map { "captured name \($0) long enough" }) }
        AllocatorOracle.expectExact { () -> Button in
            let button = Button()
            let node = Node(index: 7, parent: nil)
            button.action = { node.attrs.count }
            return button
        }
    }

    @Test func closureCapturingSelfIsFollowedOnce() {
        AllocatorOracle.expectExact { () -> Button in
            let button = Button()
            button.action = { button.title.count }  // a cycle through the context
            return button
        }
    }

    @Test func thinFunctionsHoldNothing() {
        let function: @convention(thin) () -> Void = {}
        #expect(deepSize(of: function) == MemoryLayout<@convention(thin) () -> Void>.size)
    }

    @Test func unresolvableCapturesAreMarkedOpaqueNotDropped() {
        // A generic closure's context is shared by every specialisation, and its
        // capture's type is a generic parameter: it is sized flat and marked.
        // Wrapped once: each generic call would otherwise wrap the closure in a
        // fresh reabstraction context, whose block size may differ.
        let closure: Any = makeGeneric(String(repeating: "generic capture ", count: 4))
        let sizer = Sizer()
        let tree = sizer.sizedTree(of: closure, resolutionLevel: 5)
        func opaqueNodes(_ node: SizedNode) -> [SizedNode] {
            (node.isOpaque ? [node] : []) + node.referents.flatMap(opaqueNodes)
        }
        let opaque = opaqueNodes(tree)
        #expect(opaque.count == 1)
        #expect(opaque.allSatisfy { $0.flatSize > 0 })  // its context block is still counted
        #expect(sizer.opaqueTypeNames.count == 1)
        #expect(deepSize(of: closure) == tree.size)
    }
}
