import Foundation
import HeapMonitor
import Testing

private final class Point { var x = 1, y = 2 }

private class Base {
    var label: String
    init(_ index: Int) { label = "base label number \(index) with heap storage" }
}

private final class Derived: Base {
    var values: [Int]
    override init(_ index: Int) {
        values = Array(0..<index)
        super.init(index)
    }
}

private final class GenericBox<T> {
    var value: T
    init(_ value: T) { self.value = value }
}

/// Generic subclasses of Foundation classes (whose layout may be resilient).
private final class GenericOperation<T>: Operation, @unchecked Sendable {
    var value: T
    init(_ value: T) { self.value = value }
}
private class GenericObject<T>: NSObject {
    var items: [T]
    init(_ items: [T]) { self.items = items }
}
private final class StringObject: GenericObject<String> {
    var extra = String(repeating: "extra ", count: 5)
}
private actor GenericRegistry<T> {
    var values: [T]
    init(_ values: [T]) { self.values = values }
}

private actor Registry {
    var names: [String]
    init(count: Int) { names = (0..<count).map { "registered name number \($0)" } }
}

@Suite("Class instances")
struct ClassSizingTests {
    @Test func finalClassIsItsBlock() {
        let point = Point()
        #expect(deepSize(of: point) == blockSize(of: point))
        #expect(flatSize(of: point) == blockSize(of: point))
        AllocatorOracle.expectExact { Point() }
    }

    @Test func superclassFieldsAreSized() {
        AllocatorOracle.expectExact { Derived(50) }
        AllocatorOracle.expectExact { Base(3) }
    }

    @Test func genericSpecialisationsAreSized() {
        AllocatorOracle.expectExact { GenericBox((0..<20).map { "generic payload \($0) long enough" }) }
        AllocatorOracle.expectExact { GenericBox(GenericBox([1.5, 2.5, 3.5])) }
        AllocatorOracle.expectExact { GenericBox<Point?>(Point()) }
    }

    @Test func actorsAreSized() {
        AllocatorOracle.expectExact { Registry(count: 30) }
        AllocatorOracle.expectExact { GenericRegistry([String(repeating: "actor value ", count: 4)]) }
    }

    @Test func genericSubclassesOfFoundationClasses() {
        AllocatorOracle.expectExact { StringObject([String(repeating: "item ", count: 10)]) }
        // Operation's locks keep their pthread objects behind unsafe
        // pointers, which are not followed: its fields are read, not exact.
        let operation = GenericOperation([String(repeating: "operation ", count: 6)])
        let sizer = Sizer()
        let tree = sizer.sizedTree(of: operation, resolutionLevel: 2)
        #expect(sizer.opaqueTypeNames.isEmpty)
        #expect(tree.referent("value", "[0]") != nil, "the generic field of a subclass of a Foundation class is read")
    }

    @Test func sizeDependsOnContents() {
        let small = Derived(1), large = Derived(1000)
        // Less a few rounding steps: the allocator may hand the small one a
        // block larger than it asked for.
        #expect(deepSize(of: large) - deepSize(of: small) >= 990 * MemoryLayout<Int>.stride)
    }
}
