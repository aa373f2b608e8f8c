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

/// A closure capturing a parameter pack: its capture types are pack
/// expansions, which the runtime cannot resolve without the pack.
@_semantics("optimize.sil.specialize.generic.never")
@inline(never)
private func makePackClosure<each T>(_ values: repeat each T) -> () -> Int {
    let captured = (repeat each values)
    return {
        _ = captured
        var count = 0
        for _ in repeat each values { count += 1 }
        return count
    }
}

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

    /// `[weak x]` holds a side-table pointer, `[unowned x]` an unowned
    /// reference: neither is followed (reading a side table as an object
    /// crashed the host before).
    @Test func weakAndUnownedCapturesAreNotFollowed() {
        let target = Button()
        target.title = String(repeating: "a large title ", count: 5_000)
        weak let earlier = target  // its side table exists before the oracle measures
        AllocatorOracle.expectExact { () -> Button in
            let button = Button()
            button.action = { [weak target] in target?.title.count ?? 0 }
            return button
        }
        AllocatorOracle.expectExact { () -> Button in
            let button = Button()
            button.action = { [unowned target] in target.title.count }
            return button
        }
        AllocatorOracle.expectExact { () -> Button in
            let button = Button()
            button.action = { [unowned(unsafe) target, weak earlier] in target.title.count + (earlier?.title.count ?? 0)
            }
            return button
        }
        let button = Button()
        button.action = { [weak target] in target?.title.count ?? 0 }
        let tree = sizedTree(of: button, resolutionLevel: 5)
        #expect(tree.size < 1_000 && tree.size == deepSize(of: button))
        let strong = Button()
        strong.action = { target.title.count }
        #expect(deepSize(of: strong) > 70_000, "a strong capture is followed")
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

    /// Resolving a pack expansion without its pack aborts the process inside
    /// the runtime; such captures are marked opaque instead.
    @Test func packCapturesAreMarkedOpaqueNotResolved() {
        let closure: Any = makePackClosure(1, String(repeating: "pack ", count: 9), [2.0])
        let sizer = Sizer()
        let tree = sizer.sizedTree(of: closure, resolutionLevel: 3)
        #expect(tree.size == deepSize(of: closure) && tree.size > 0)
        #expect(sizer.opaqueTypeNames == ["closure context or box"])
    }
}
