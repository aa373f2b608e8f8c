@testable import HeapMonitorAnalysis
@testable import HeapMonitorRecording
import Foundation
import Testing

private final class Young {
    let value: Int
    init(_ value: Int) { self.value = value }
}

extension TrackerSuite {
    @Suite("Profiles written by background snapshots")
    struct BackgroundProfileTests {
        /// A background snapshot sizes nothing, yet writes the objects it
        /// finds into the profile: their records must keep their numbers
        /// when thousands of short-lived objects are dropped afterwards, or
        /// their deaths are lost (and the writer indexed records that no
        /// longer exist: `heapmonitor run` on SwiftPM crashed at exit).
        @Test func objectsInTheFileKeepTheirRecordsWhileShortLivedOnesAreDropped() async throws {
            let tracker = freshTracker()
            let path = temporaryPath("background-records.hmprof")
            defer { unlink(path) }
            try tracker.track(class: Young.self)
            try tracker.startProfile(at: path)
            var first = (0..<100).map(Young.init)
            tracker.startPeriodicSnapshots(every: .milliseconds(2), description: "background")
            try await Task.sleep(for: .milliseconds(40))
            tracker.stopPeriodicSnapshots()
            first.removeAll()
            var churn: [Young] = []
            for index in 0..<20_000 {
                churn.append(Young(index))
                if churn.count == 10 { churn.removeAll(keepingCapacity: true) }
            }
            churn.removeAll()
            let later = (0..<50).map(Young.init)
            try tracker.takeSnapshot(named: "end")
            try tracker.stopProfile()
            let profile = try Profile.load(from: path)
            let alive = profile.objects.indices.filter { profile.objects[$0].death == nil }
            #expect(alive.count == later.count, "\(alive.count) alive in the file")
            let end = try #require(profile.snapshots.last)
            #expect(end.description == "end" && end.objectIDs.count == later.count)
            #expect(end.objectIDs.allSatisfy { profile.objects.indices.contains(Int($0)) })
            #expect(first.isEmpty && later.count == 50)
        }
    }
}
