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

private struct LargeError: Error {
    var message: String
    var code = 0, line = 0, column = 0
}

@Suite("Existentials")
struct ExistentialSizingTests {
    @Test func anyHoldsInlineAndBoxedValues() {
        AllocatorOracle.expectExact { () -> [Any] in
            [42, String(repeating: "inline string ", count: 3), LargeShape(label: String(repeating: "boxed ", count: 5)),
             Node(index: 1, parent: nil), [1, 2, 3]]
        }
    }

    @Test func protocolExistentials() {
        AllocatorOracle.expectExact { () -> Canvas in
            let canvas = Canvas()
            canvas.items = [SmallShape(label: String(repeating: "small ", count: 4)),
                            LargeShape(label: String(repeating: "large ", count: 4)), Canvas()]
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

    @Test func rootExistentialIsOpenedNotItsBox() {
        let shape = LargeShape(label: String(repeating: "opened ", count: 4))
        let asAny: Any = shape
        #expect(deepSize(of: asAny) == deepSize(of: shape))
    }
}
