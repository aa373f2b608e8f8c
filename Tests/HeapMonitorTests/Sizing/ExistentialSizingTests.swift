import HeapMonitor
import HeapMonitorSamples
import Testing

private protocol Drawable { func draw() -> Int }

private struct SmallShape: Drawable {
    var label: String
    func draw() -> Int { label.count }
}

private struct LargeShape: Drawable {
    var a = 1, b = 2, c = 3, d = 4
    var label: String
    func draw() -> Int { label.count + a }
}

private final class Canvas: Drawable {
    var items: [any Drawable] = []
    func draw() -> Int { items.count }
}

private final class Box3 {
    let first: any Collection<Int>, second: any Sequence<String>, third: any Drawable
    init(_ first: any Collection<Int>, _ second: any Sequence<String>, _ third: any Drawable) {
        (self.first, self.second, self.third) = (first, second, third)
    }
}

private struct LargeError: Error {
    var message: String
    var code = 0, line = 0, column = 0
}

@Suite("Existentials")
struct ExistentialSizingTests {
    @Test func anyHoldsInlineAndBoxedValues() {
        AllocatorOracle.expectExact { () -> [Any] in
            [
                42, String(repeating: "inline string ", count: 3),
                LargeShape(label: String(repeating: "boxed ", count: 5)),
                Node(index: 1, parent: nil), [1, 2, 3],
            ]
        }
    }

    @Test func protocolExistentials() {
        AllocatorOracle.expectExact { () -> Canvas in
            let canvas = Canvas()
            canvas.items = [
                SmallShape(label: String(repeating: "small ", count: 4)),
                LargeShape(label: String(repeating: "large ", count: 4)), Canvas(),
            ]
            return canvas
        }
    }

    @Test func classBoundExistentials() {
        AllocatorOracle.expectExact { () -> [AnyObject] in [Node(index: 1, parent: nil), Canvas()] }
    }

    @Test func errorsAreBoxed() {
        AllocatorOracle.expectExact { () -> [any Error] in
            [LargeError(message: String(repeating: "error message ", count: 3))]
        }
    }

    /// `any Collection<Int>` and friends have their own metadata kind (an
    /// extended existential read through its shape): they were sized flat.
    @Test func constrainedExistentials() {
        AllocatorOracle.expectExact { () -> Box3 in
            let canvas = Canvas()
            let numbers: any Collection<Int> = Array(0..<keep(100))
            let words: any Sequence<String> = [String(repeating: "word ", count: 5)]
            let shapeType: any Drawable.Type = SmallShape.self
            canvas.items = [SmallShape(label: "\(numbers.count) \(shapeType)")]
            return Box3(numbers, words, canvas)
        }
        let sizer = Sizer()
        let constrained: any Collection<String> = [String(repeating: "s", count: 40)]
        _ = sizer.deepSize(of: constrained)
        #expect(sizer.opaqueTypeNames.isEmpty)
    }

    @Test func rootExistentialIsOpenedNotItsBox() {
        let shape = LargeShape(label: String(repeating: "opened ", count: 4))
        let asAny: Any = shape
        #expect(deepSize(of: asAny) == deepSize(of: shape))
    }
}
