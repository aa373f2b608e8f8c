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
    }

    @Test func sizeDependsOnContents() {
        let small = Derived(1), large = Derived(1000)
        #expect(deepSize(of: large) - deepSize(of: small) >= 999 * MemoryLayout<Int>.stride)
    }
}
