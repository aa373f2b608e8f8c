import HeapMonitor
import HeapMonitorSamples
import Testing

private struct Record {
    var id: Int
    var title: String
    var tags: [String]
    var owner: Node?
}

private enum Payload {
    case text(String)
    case number(Int)
    case pair(Node, Node)
    case list([String])
    case empty
}

private indirect enum Expression {
    case literal(String)
    case sum(Expression, Expression)
}

private enum Shape {
    case circle(radius: Double)
    case polygon(points: [Double])
}

private func longString(_ index: Int) -> String { "a string that needs heap storage, number \(index)" }

@Suite("Value types")
struct ValueSizingTests {
    @Test func structsCountInlineBytesAndReferents() {
        AllocatorOracle.expectExact {
            Record(id: 1, title: longString(1), tags: (0..<5).map(longString), owner: Node(index: 1, parent: nil))
        }
        let record = Record(id: 1, title: "short", tags: [], owner: nil)
        #expect(deepSize(of: record) == MemoryLayout<Record>.size)
    }

    @Test(arguments: 0..<5)
    func multiPayloadEnums(caseIndex: Int) {
        AllocatorOracle.expectExact { () -> Payload in
            switch caseIndex {
            case 0: return .text(longString(0))
            case 1: return .number(42)
            case 2: return .pair(Node(index: 1, parent: nil), Node(index: 2, parent: nil))
            case 3: return .list((0..<10).map(longString))
            default: return .empty
            }
        }
    }

    @Test func indirectEnumsCountTheirBoxes() {
        AllocatorOracle.expectExact { () -> Expression in
            var expression = Expression.literal(longString(0))
            for index in 1..<20 { expression = .sum(expression, .literal(longString(index))) }
            return expression
        }
    }

    @Test func singlePayloadEnumsAndOptionals() {
        AllocatorOracle.expectExact { Shape.polygon(points: Array(repeating: 1.5, count: 100)) }
        AllocatorOracle.expectExact { Optional(longString(3)) }
        AllocatorOracle.expectExact { [Node?](repeating: nil, count: 3) + [Node(index: 4, parent: nil)] }
        #expect(deepSize(of: Shape.circle(radius: 2)) == MemoryLayout<Shape>.size)
    }

    @Test func tuples() {
        AllocatorOracle.expectExact { (longString(1), [1, 2, 3], Node(index: 2, parent: nil)) }
    }

    /// `InlineArray`'s storage is a `Builtin.FixedArray`, a metadata kind
    /// of its own.
    @Test func inlineArrays() {
        AllocatorOracle.expectExact { () -> InlineArray<3, String> in [longString(1), longString(2), longString(3)] }
        AllocatorOracle.expectExact { () -> [InlineArray<2, Node>] in
            [[Node(index: 1, parent: nil), Node(index: 2, parent: nil)]]
        }
        let pair: InlineArray<2, String> = [longString(4), longString(5)]
        let tree = sizedTree(of: pair, resolutionLevel: 2)
        #expect(tree.referent("_storage", "[1]") != nil && !tree.isOpaque)
    }

    @Test func metatypesHoldNothing() {
        let types: [Any.Type] = [Int.self, Node.self, [String].self]
        AllocatorOracle.expectExact { types.map { $0 } }
        #expect(deepSize(of: Node.self) == MemoryLayout<Node.Type>.size)
    }
}
