@testable import HeapMonitorModel
@testable import HeapMonitorRecording
import Testing

private final class Lodger { var id = 0 }

extension TrackerSuite {
    /// The census a control request starts: counted from a heap walk,
    /// ended when nobody asks, walked again when asked again.
    @Suite("Census on request")
    struct CensusOnRequestTests {
        private func lodgers(in reply: ControlReply) -> Int? {
            guard case .census(let census) = reply else { return nil }
            return census.entries.first { $0.className == "HeapMonitorTests.Lodger" }?.liveCount ?? 0
        }

        @Test func aCensusNobodyAsksForEndsAndTheHooksComeOut() throws {
            let tracker = freshTracker()
            tracker.stopCensus()
            tracker.uninstallHooks()
            var lodgers = (0..<10).map { _ in keep(Lodger()) }
            #expect(self.lodgers(in: tracker.answer(.census(limit: 0))) == 10)
            #expect(tracker.censusIsOn && tracker.patchedEntries > 0)
            tracker.endCensusIfIdle(for: .seconds(600))
            #expect(tracker.censusIsOn, "asked for just now")
            tracker.endCensusIfIdle(for: .zero)
            #expect(!tracker.censusIsOn)
            #expect(tracker.patchedEntries == 0, "nothing else needs the hooks")
            lodgers.append(contentsOf: (0..<5).map { _ in keep(Lodger()) })
            lodgers.removeFirst(2)
            #expect(self.lodgers(in: tracker.answer(.census(limit: 0))) == 13, "walked again")
            tracker.endCensusIfIdle(for: .zero)
            _ = keep(lodgers)
        }

        @Test func aCensusTheProgramStartedGoesOn() throws {
            let tracker = freshTracker()
            try tracker.startCensus()
            defer { tracker.stopCensus() }
            _ = tracker.answer(.census(limit: 0))
            tracker.endCensusIfIdle(for: .zero)
            #expect(tracker.censusIsOn)
        }
    }
}
