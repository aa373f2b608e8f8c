import HeapMonitor
@testable import HeapMonitorModel
import Testing

private final class Hidden<T> { var value: T? }
private struct HiddenValue { var text = "a string too long to be inline" }

@Suite("Type names from run to run")
struct StableTypeNameTests {
    @Test func anonymousContextsAreLeftOut() {
        #expect(
            stableTypeName("Yams.(unknown context at $5559a9b41928).Pair<Yams.(unknown context at $55aa).Node>")
                == "Yams.Pair<Yams.Node>")
        #expect(stableTypeName("App.(unknown context at $1).(unknown context at $2).Local") == "App.Local")
        #expect(stableTypeName("Swift.Array<Swift.Int>") == "Swift.Array<Swift.Int>")
    }

    @Test func privateAndLocalTypesAreNamedAsInTheSource() {
        final class Local { var hidden = Hidden<HiddenValue>() }
        let tree = Sizer().sizedTree(of: Local(), resolutionLevel: 2)
        #expect(tree.typeName == "HeapMonitorTests.StableTypeNameTests.Local")
        #expect(tree.referents.first?.typeName == "HeapMonitorTests.Hidden<HeapMonitorTests.HiddenValue>")
    }
}
