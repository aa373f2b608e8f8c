import Foundation
import HeapMonitor
import Testing

private final class Document: NSObject {
    var title = String(repeating: "document ", count: 4)
    var body = Data(repeating: 7, count: 4096)
}

@Suite("Foundation values")
struct FoundationSizingTests {
    @Test func dataCountsItsBytes() {
        AllocatorOracle.expectExact { Data(repeating: 1, count: 10_000) }
        AllocatorOracle.expectExact { Data(repeating: 1, count: 8) }  // inline
        let data = Data(repeating: 1, count: 100_000)
        #expect(deepSize(of: data) >= 100_000)
    }

    @Test func plainValuesHoldNothing() {
        #expect(deepSize(of: Date()) == MemoryLayout<Date>.size)
        #expect(deepSize(of: UUID()) == MemoryLayout<UUID>.size)
        #expect(deepSize(of: Decimal(12.5)) == MemoryLayout<Decimal>.size)
    }

    @Test func urlsAndObjects() {
        AllocatorOracle.expectExact {
            URL(string: "https://example.com/a/long/path/for/storage?query=\(Int.random(in: 0..<9))")!
        }
        AllocatorOracle.expectExact { Document() }
    }
}
