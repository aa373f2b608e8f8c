@testable import HeapMonitor
@testable import HeapMonitorAnalysis
@testable import HeapMonitorModel
@testable import HeapMonitorRecording
import Testing

private final class Traced { var x = 0 }
private final class NotTraced { var x = 0 }

@inline(never) private func makeTracedObject() -> Traced { keep(Traced()) }
private let makeTracedObjectLine = #line - 1

extension TrackerSuite {
    @Suite("Instantiation traces")
    struct InstantiationTraceTests {
        @Test func tracedClassesRecordTheAllocatingCallStack() throws {
            let tracker = freshTracker()
            try tracker.track(class: Traced.self, trace: true)
            try tracker.track(class: NotTraced.self)
            let objects = (0..<keep(3)).map { _ in makeTracedObject() }
            let plain = keep(NotTraced())
            let tracked = tracker.objects
            let traced = tracked.filter { $0.className.hasSuffix("Traced") && !$0.className.hasSuffix("NotTraced") }
            #expect(traced.count == 3)
            #expect(Set(traced.compactMap(\.trace)).count == 1, "one call site, one interned trace")
            let frames = try #require(traced.first?.trace).symbolicated()
            #expect(frames.count >= 3)
            #expect(frames.contains { $0.symbol?.contains("makeTracedObject") == true })
            #expect(frames.contains { $0.symbol?.contains("tracedClassesRecordTheAllocatingCallStack") == true })
            #expect(!frames.contains { $0.symbol?.hasPrefix("hm_") == true }, "the hook's own frames are skipped")
            #expect(tracked.first { $0.className.hasSuffix("NotTraced") }?.trace == nil)
            // The test binary has DWARF line tables: the allocating frame
            // names this file and the line of the call.
            let maker = try #require(frames.first { $0.symbol?.contains("makeTracedObject") == true })
            #expect(maker.file?.hasSuffix("/Tracking/InstantiationTraceTests.swift") == true, "\(maker)")
            #expect(maker.line == makeTracedObjectLine, "\(maker)")
            #expect(maker.description.hasSuffix("InstantiationTraceTests.swift:\(makeTracedObjectLine)"))
            _ = keep((objects, plain))
        }

        @Test func unknownAddressesPrintAsAddresses() {
            let frame = InstantiationTrace.Frame(address: 0x10)
            #expect(frame.symbol == nil)
            #expect(frame.description.hasPrefix("0x10"))
        }
    }
}
