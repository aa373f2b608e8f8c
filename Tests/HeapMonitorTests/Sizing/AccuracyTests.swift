import HeapMonitor
import HeapMonitorSamples
import Testing

/// Deep sizes of whole graphs against the allocator's in-use delta around
/// building them (within 1 %; in practice they agree far closer).
@Suite("Accuracy against the allocator")
struct AccuracyTests {
    static func expectWithinOnePercent<T>(_ build: @escaping () -> T, sourceLocation: SourceLocation = #_sourceLocation)
    {
        let (allocated, value) = AllocatorOracle.measure(build)
        let size = deepSize(of: value) - AllocatorOracle.inlineBytes(of: value)
        let error = abs(Double(size) / Double(allocated) - 1)
        #expect(error <= 0.01, "deep \(size) vs allocator \(allocated)", sourceLocation: sourceLocation)
    }

    @Test func nodeTree() { Self.expectWithinOnePercent { buildNodeTree(count: 20_000) } }
    @Test func dictionaryHeavyGraph() { Self.expectWithinOnePercent { DocumentIndex(documents: 5_000) } }
    @Test func strings() { Self.expectWithinOnePercent { buildStrings(count: 20_000) } }
    @Test func nestedArrays() { Self.expectWithinOnePercent { buildNestedArrays(outer: 5_000) } }
}
